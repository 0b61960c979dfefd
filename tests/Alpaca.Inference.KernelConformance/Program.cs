using Alpaca.Inference.KernelConformance;

return await ConformanceRunner.RunAsync(typeof(ConformanceRunner).Assembly, args);
