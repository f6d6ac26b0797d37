using System.Diagnostics;
using ConsensusApi.Tests.Infrastructure;

namespace ConsensusApi.Tests.Faults;

/// <summary>
/// Another OS process holding the database's write lock, as the terminal UI or a backup tool
/// might: Debian's <c>sqlite3</c> shell (installed by <c>.ci/prepare</c>) inside
/// <c>BEGIN EXCLUSIVE</c> until released or disposed.
/// </summary>
public sealed class SqliteCliLock : IAsyncDisposable
{
    public const string Shell = "/usr/bin/sqlite3";

    private readonly Process _process;
    private readonly TaskCompletionSource _locked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SqliteCliLock(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "locked")
            {
                _locked.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                _locked.TrySetException(new InvalidOperationException("sqlite3: " + e.Data));
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>When the lock was taken.</summary>
    public Stopwatch Held { get; } = new();

    /// <summary>Skips where the shell is missing; on CI it must be there.</summary>
    public static void Require() =>
        Assert.SkipUnless(File.Exists(Shell) || Repository.OnCi, $"{Shell} is not installed (bash .ci/prepare installs it).");

    /// <summary>Starts the shell on <paramref name="path"/> and returns once it holds the exclusive lock.</summary>
    public static async Task<SqliteCliLock> HoldAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Shell) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(path);
        var holder = new SqliteCliLock(Process.Start(start)!);
        // Waits for the service's own write transactions to end, as any polite second writer does.
        await holder._process.StandardInput.WriteAsync(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n".AsMemory(), cancellationToken);
        await holder._process.StandardInput.FlushAsync(cancellationToken);
        await holder._locked.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        holder.Held.Start();
        return holder;
    }

    /// <summary>Ends the transaction and the shell.</summary>
    public async Task ReleaseAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        await _process.StandardInput.WriteAsync("COMMIT;\n.quit\n");
        await _process.StandardInput.FlushAsync();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Held.Stop();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync();
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
