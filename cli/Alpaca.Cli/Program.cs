using Alpaca.Cli.Commands;

// One `alpaca` command drives the platform, locally or against a cluster.
return await CommandCatalog.BuildRoot().Parse(args).InvokeAsync();
