namespace SlateSharp.Bench;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("SlateSharp.Bench: no workloads yet");
        return args.Length == 0 ? 2 : 2;
    }
}
