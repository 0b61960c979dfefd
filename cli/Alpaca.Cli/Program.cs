using Alpaca.Cli.Commands;

// One `alpaca` command drives the platform, locally or against a cluster.
var parse = CommandCatalog.BuildRoot().Parse(args);
CliAuth.Read(parse);
return await parse.InvokeAsync();
