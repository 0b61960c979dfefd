using Alpaca.ServiceDefaults;
using Alpaca.Trainer.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(TrainerModule.Name, TrainerModule.GrpcServices);
builder.AddTrainerServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapTrainerServices();
app.Run();
