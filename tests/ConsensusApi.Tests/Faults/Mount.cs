using System.Diagnostics;
using System.Globalization;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// A real file system under the service, mounted over a test folder and unmounted on dispose:
/// a read-only bind mount (a read-only volume, where even root cannot write) or a small tmpfs
/// (a disk that fills up). Needs the right to mount, which root has here and on CI; elsewhere
/// the tests that ask for one are skipped.
/// </summary>
public sealed class Mount : IDisposable
{
    private Mount(string folder) => Folder = folder;

    /// <summary>The mount point.</summary>
    public string Folder { get; }

    /// <summary>Mounts <paramref name="folder"/> read-only over itself.</summary>
    public static Mount ReadOnly(string folder) => Require(folder, ["--bind", folder, folder], ["-o", "remount,bind,ro", folder, folder]);

    /// <summary>Mounts a tmpfs of <paramref name="sizeBytes"/> on <paramref name="folder"/>.</summary>
    public static Mount SmallDisk(string folder, long sizeBytes) =>
        Require(folder, ["-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={sizeBytes}"), "tmpfs", folder]);

    public void Dispose() => Command.Run("umount", Folder);

    private static Mount Require(string folder, params string[][] steps)
    {
        string? failure = null;
        for (var i = 0; i < steps.Length && failure is null; i++)
        {
            var (ok, output) = Command.Run("mount", steps[i]);
            if (!ok)
            {
                failure = output;
                if (i > 0)
                {
                    Command.Run("umount", folder);
                }
            }
        }

        Assert.SkipWhen(failure is not null && !Repository.OnCi, "Mounting a file system needs the right to mount: " + failure);
        return failure is null ? new Mount(folder) : throw new InvalidOperationException("A file system could not be mounted on CI: " + failure);
    }
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
