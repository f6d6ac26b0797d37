using System.Globalization;

namespace ConsensusApi.LoadTests.Engine;

/// <summary>Reads a Linux process's resident memory and CPU time from /proc.</summary>
public sealed class ServiceMonitor(int pid)
{
    /// <summary>Clock ticks per second of /proc/[pid]/stat (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>The process id watched.</summary>
    public int Pid { get; } = pid;

    /// <summary>VmRSS in MB, or null when the process is gone or /proc is not there.</summary>
    public double? ReadRssMb()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return Math.Round(long.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024.0, 1);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>User plus system CPU seconds so far, or null when unreadable.</summary>
    public double? ReadCpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}

/// <summary>The machine's load.</summary>
public static class MachineLoad
{
    /// <summary>The 1-minute load average (runnable and waiting tasks), or null where /proc/loadavg is missing.</summary>
    public static double? ReadLoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
