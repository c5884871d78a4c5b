#pragma once
// Running the built graft-cli (GRAFT_CLI_PATH) as a user would, for the CLI tests.

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

/// Runs graft-cli with `arguments` (2 minutes at most); a crash or a hang gives exit code -1
/// and says so in `err`.
inline CliRun runCli(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(GRAFT_CLI_PATH), arguments);
    CliRun run;
    if (!process.waitForFinished(120000) || process.exitStatus() != QProcess::NormalExit) {
        process.kill();
        process.waitForFinished();
        run.err = "graft-cli did not finish normally";
        return run;
    }
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

/// Exit code, the start of stdout (`maxOut` bytes) and stderr, for failure messages.
inline QString describe(const CliRun &run, int maxOut = 3000)
{
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out.left(maxOut)), QString::fromUtf8(run.err));
}
