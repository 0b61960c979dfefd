using Alpaca.Generator.Api;
using Alpaca.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(GeneratorModule.Name, GeneratorModule.GrpcServices);
builder.AddGeneratorServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGeneratorServices();
app.Run();
