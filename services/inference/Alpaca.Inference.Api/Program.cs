using Alpaca.Inference.Api;
using Alpaca.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(InferenceModule.Name, InferenceModule.GrpcServices);
builder.AddInferenceServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapInferenceServices();
app.Run();
