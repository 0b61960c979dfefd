using Alpaca.Dedup.Api;
using Alpaca.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(DedupModule.Name, DedupModule.GrpcServices);
builder.AddDedupServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapDedupServices();
app.Run();
