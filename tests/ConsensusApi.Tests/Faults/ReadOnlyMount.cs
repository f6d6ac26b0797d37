using System.Diagnostics;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// A folder bind-mounted read-only onto itself: a real read-only file system under the service
/// (as a read-only volume would be), where even root cannot write. Needs the right to mount
/// (root here and on CI); elsewhere the test that asks for it is skipped.
/// </summary>
public sealed class ReadOnlyMount : IDisposable
{
    private ReadOnlyMount(string folder) => Folder = folder;

    public string Folder { get; }

    /// <summary>Mounts <paramref name="folder"/> read-only over itself, or says why it could not.</summary>
    public static ReadOnlyMount? TryCreate(string folder, out string whyNot)
    {
        var bind = Command.Run("mount", "--bind", folder, folder);
        if (!bind.Ok)
        {
            whyNot = bind.Output;
            return null;
        }

        var readOnly = Command.Run("mount", "-o", "remount,bind,ro", folder, folder);
        if (!readOnly.Ok)
        {
            Command.Run("umount", folder);
            whyNot = readOnly.Output;
            return null;
        }

        whyNot = "";
        return new ReadOnlyMount(folder);
    }

    /// <summary>Skips the test where mounting is not allowed; on CI it must be.</summary>
    public static ReadOnlyMount Require(string folder)
    {
        var mount = TryCreate(folder, out var whyNot);
        Assert.SkipWhen(mount is null && !Repository.OnCi, "A read-only bind mount needs the right to mount: " + whyNot);
        return mount ?? throw new InvalidOperationException("A read-only bind mount could not be made on CI: " + whyNot);
    }

    public void Dispose() => Command.Run("umount", Folder);
}

/// <summary>Runs a short command to its end.</summary>
internal static class Command
{
    public static (bool Ok, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (false, ex.Message);
        }
    }
}
