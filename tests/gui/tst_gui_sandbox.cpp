// The Sandbox view of a session against a real VM (TCG under ctest): state from the sandbox
// manager, the /workspace file browser (a file written through the guest agent is listed and
// opens in the viewer; upload then download round-trips the bytes; a failed download says so),
// the console (stdout, stderr marked, exit codes, the current folder as cwd, output streaming in
// before the command ends, Stop killing a running command), the file list following the
// session's tool results, no idle pause while the view is open, pause and resume, the warm pool following the Settings at runtime, and the
// session losing its VM. Also the guest image's build state on the Environments page,
// with a real GuestImage running a stand-in recipe that reports progress and then fails, and the
// selected environment's package layer (no packages, not built, failed with its log, a live
// build, ready), its files written where EnvironmentLayers::status() reads them.
#include "AppSettings.h"
#include "EnvironmentsPage.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SandboxesPage.h"
#include "SandboxView.h"
#include "SessionView.h"
#include "SettingsDialog.h"
#include "Widgets.h"
#include "sandbox/EnvironmentLayers.h"
#include "sandbox/SandboxManager.h"
#include "runtime/Runtime.h"
#include "sandbox/SandboxToolExecutor.h"

#include <QDialog>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QSpinBox>
#include <QTabWidget>
#include <QTextBlock>
#include <QTreeWidget>

using namespace viv;

namespace {

template <typename T>
Result<T> waitFor(GuiHarness &h, std::function<void(Backend &, Callback<T>)> work, int timeoutMs)
{
    std::optional<Result<T>> out;
    QObject ctx;
    h.bridge.callAsync<T>(&ctx, std::move(work), [&](Result<T> r) { out.emplace(std::move(r)); });
    if (!QTest::qWaitFor([&] { return out.has_value(); }, timeoutMs))
        return ApiError::internal(QStringLiteral("timed out"));
    return std::move(*out);
}

QTreeWidgetItem *findItem(QTreeWidget *tree, const QString &name)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->text(0) == name)
            return tree->topLevelItem(i);
    return nullptr;
}

// The console's text of one kind (SandboxView marks each run with QTextFormat::UserProperty:
// 1 prompt, 2 stdout, 3 stderr, 4 status).
QString consoleText(QPlainTextEdit *console, int kind)
{
    QString out;
    for (QTextBlock b = console->document()->begin(); b.isValid(); b = b.next())
        for (auto it = b.begin(); !it.atEnd(); ++it)
            if (it.fragment().charFormat().property(QTextFormat::UserProperty).toInt() == kind)
                out += it.fragment().text() + u'\n';
    return out;
}

} // namespace

class TestGuiSandbox : public QObject
{
    Q_OBJECT
    std::unique_ptr<GuiHarness> h;
    QString sessionId;
    QString sandboxId;
    SessionView *view = nullptr;
    SandboxView *sandbox = nullptr;
    MainWindow *window = nullptr;
    QTemporaryDir local;

    template <typename W>
    W *child(const char *name)
    {
        auto *w = sandbox->findChild<W *>(QString::fromLatin1(name));
        if (!w)
            qWarning("no widget %s", name);
        return w;
    }

    Result<QJsonObject> agent(const QJsonObject &request)
    {
        const QString id = sandboxId;
        return waitFor<QJsonObject>(
            *h, [id, request](Backend &b, Callback<QJsonObject> cb) { b.sandboxes().call(id, request, std::move(cb)); },
            60000);
    }

    // Whether a `sleep` runs in the guest (0 yes, 1 no), by /proc (no procps needed).
    int sleeping()
    {
        SandboxManager::ExecRequest req;
        req.argv = {QStringLiteral("/bin/bash"), QStringLiteral("-c"),
                    QStringLiteral("for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = sleep ] && exit 0; done; exit 1")};
        req.timeoutMs = 30000;
        const QString id = sandboxId;
        auto r = waitFor<SandboxManager::ExecResult>(
            *h, [id, req](Backend &b, Callback<SandboxManager::ExecResult> cb) { b.sandboxes().exec(id, req, std::move(cb)); },
            60000);
        return r ? r->exitCode.value_or(-1) : -2;
    }

    bool run(const QString &command, int expectedExit)
    {
        QSignalSpy finished(sandbox, &SandboxView::commandFinished);
        auto *input = child<QLineEdit>("sandboxConsoleInput");
        if (!QTest::qWaitFor([&] { return input->isEnabled(); }, 30000))
            return false;
        input->setText(command);
        QTest::keyClick(input, Qt::Key_Return);
        if (!finished.wait(120000))
            return false;
        return finished.constFirst().constFirst().toInt() == expectedExit;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(QDir().mkpath(QStringLiteral(VIVARIUM_SCREENSHOT_DIR))); // any case may write one
        setConfirmFunction([](QWidget *, const QString &, const QString &) { return true; });
        // A short idle pause, so that idleHoldWhileOpen() sees the idle policy act (only a session
        // the executor knows and whose view is closed is ever paused for idleness here).
        qputenv("VIVARIUM_SANDBOX_IDLE_PAUSE_S", "2");
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        const QString image = h->ensureGuestImage();
        QVERIFY2(image.isEmpty(), qPrintable(image));
        sessionId = h->createSession(QStringLiteral("sandbox view"));
        QVERIFY(!sessionId.isEmpty());
    }

    void noSandboxYet()
    {
        view = new SessionView(h->bridge);
        view->resize(1100, 760);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view));
        sandbox = view->sandboxView();
        QVERIFY(sandbox);
        QCOMPARE(view->findChild<QTabWidget *>(QStringLiteral("sessionTabs"))->indexOf(sandbox), 1);
        view->openSession(sessionId);
        view->showTab(1);
        auto *empty = child<QLabel>("sandboxEmpty");
        QTRY_VERIFY(empty->isVisible());
        QVERIFY2(empty->text().contains(QStringLiteral("No sandbox yet")), qPrintable(empty->text()));
        // Nothing that cannot work is offered.
        QVERIFY(!child<QPushButton>("sandboxPause")->isVisible());
        QVERIFY(!child<QLineEdit>("sandboxConsoleInput")->isVisible());
        QVERIFY(sandbox->sandboxId().isEmpty());
    }

    void sessionGetsItsSandbox()
    {
        // What the first tool call of the session does; the view follows the session's link.
        QSignalSpy shown(sandbox, &SandboxView::stateShown);
        const QString sid = sessionId;
        auto claimed = waitFor<SandboxManager::Info>(
            *h, [sid](Backend &b, Callback<SandboxManager::Info> cb) { b.sandboxes().claimForSession(sid, std::move(cb)); },
            5 * 60 * 1000);
        QVERIFY2(claimed.ok(), claimed.ok() ? "" : qPrintable(claimed.error().message()));
        sandboxId = claimed->id;
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->sandboxId(), sandboxId, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("running"), 60000);
        QVERIFY(child<QLabel>("sandboxState")->isVisible());
        QVERIFY2(child<QLabel>("sandboxState")->text().contains(QStringLiteral("Running")),
                 qPrintable(child<QLabel>("sandboxState")->text()));
        const QString details = child<QLabel>("sandboxDetails")->text();
        QVERIFY2(details.contains(QStringLiteral("MiB memory")) && details.contains(QStringLiteral("vCPU"))
                     && (details.contains(QStringLiteral("booted in"))
                         || details.contains(QStringLiteral("restored from the VM template in"))),
                 qPrintable(details));
        QVERIFY(child<QPushButton>("sandboxPause")->isEnabled());
        QVERIFY(!child<QPushButton>("sandboxResume")->isEnabled());
        QVERIFY(!shown.isEmpty());
    }

    void listsAndOpensAgentFile()
    {
        const QByteArray text = "{\"hello\": \"from the agent\"}\n";
        QVERIFY(agent({{QStringLiteral("op"), QStringLiteral("write")},
                       {QStringLiteral("path"), QStringLiteral("/workspace/notes/hello.json")},
                       {QStringLiteral("data"), QString::fromLatin1(text.toBase64())}})
                    .ok());
        QSignalSpy listed(sandbox, &SandboxView::listed);
        QTest::mouseClick(child<QPushButton>("sandboxRefresh"), Qt::LeftButton);
        auto *tree = child<QTreeWidget>("sandboxFiles");
        QTRY_VERIFY_WITH_TIMEOUT(findItem(tree, QStringLiteral("notes")), 30000);
        QCOMPARE(sandbox->currentFolder(), QStringLiteral("/workspace"));
        QVERIFY(!child<QPushButton>("sandboxUp")->isEnabled());

        // Into the folder (Enter activates the item, as a double-click does).
        tree->setCurrentItem(findItem(tree, QStringLiteral("notes")));
        listed.clear();
        QTest::keyClick(tree, Qt::Key_Return);
        QVERIFY(listed.wait(30000));
        QCOMPARE(sandbox->currentFolder(), QStringLiteral("/workspace/notes"));
        QTreeWidgetItem *item = findItem(tree, QStringLiteral("hello.json"));
        QVERIFY(item);
        QVERIFY(!item->text(1).isEmpty()); // size
        QVERIFY(child<QPushButton>("sandboxUp")->isEnabled());

        QSignalSpy opened(sandbox, &SandboxView::fileOpened);
        tree->setCurrentItem(item);
        QTest::mouseClick(child<QPushButton>("sandboxOpen"), Qt::LeftButton);
        QVERIFY(opened.wait(30000));
        auto *viewer = child<QPlainTextEdit>("sandboxViewer");
        QCOMPARE(viewer->toPlainText(), QString::fromUtf8(text));
        QVERIFY(viewer->isReadOnly());
        QVERIFY(child<QLabel>("sandboxViewerTitle")->text().contains(QStringLiteral("/workspace/notes/hello.json")));
    }

    void uploadThenDownloadRoundTrips()
    {
        // Over two transfer chunks, every byte value.
        QByteArray bytes(2 * 1024 * 1024 + 12345, Qt::Uninitialized);
        QRandomGenerator rng(4711);
        for (char &c : bytes)
            c = char(rng.bounded(256));
        const QString in = local.filePath(QStringLiteral("payload.bin"));
        const QString out = local.filePath(QStringLiteral("downloaded.bin"));
        {
            QFile f(in);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QCOMPARE(f.write(bytes), bytes.size());
        }
        SandboxView::setFileChooser([&](QWidget *, bool save, const QString &suggested) {
            if (save)
                return suggested == u"payload.bin" ? out : QString();
            return in;
        });

        QSignalSpy transferred(sandbox, &SandboxView::transferFinished);
        QTest::mouseClick(child<QPushButton>("sandboxUpload"), Qt::LeftButton);
        QVERIFY(transferred.wait(120000));
        QVERIFY2(transferred.constFirst().at(0).toBool(), qPrintable(transferred.constFirst().at(1).toString()));
        // Into the current folder, under its own name, and listed.
        auto *tree = child<QTreeWidget>("sandboxFiles");
        QTRY_VERIFY_WITH_TIMEOUT(findItem(tree, QStringLiteral("payload.bin")), 30000);
        QVERIFY(!findItem(tree, QStringLiteral(".payload.bin.vivarium-upload")));
        auto stat = agent({{QStringLiteral("op"), QStringLiteral("stat")},
                           {QStringLiteral("path"), QStringLiteral("/workspace/notes/payload.bin")}});
        QVERIFY(stat.ok());
        QCOMPARE(stat->value(QStringLiteral("entry")).toObject().value(QStringLiteral("size")).toInteger(), bytes.size());

        transferred.clear();
        tree->setCurrentItem(findItem(tree, QStringLiteral("payload.bin")));
        QTest::mouseClick(child<QPushButton>("sandboxDownload"), Qt::LeftButton);
        QVERIFY(transferred.wait(120000));
        QVERIFY2(transferred.constFirst().at(0).toBool(), qPrintable(transferred.constFirst().at(1).toString()));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll() == bytes);
    }

    void cancelledUploadLeavesNothing()
    {
        QByteArray bytes(6 * 1024 * 1024, 'x');
        const QString in = local.filePath(QStringLiteral("big.txt"));
        {
            QFile f(in);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QCOMPARE(f.write(bytes), bytes.size());
        }
        SandboxView::setFileChooser([&](QWidget *, bool, const QString &) { return in; });
        QSignalSpy transferred(sandbox, &SandboxView::transferFinished);
        QTest::mouseClick(child<QPushButton>("sandboxUpload"), Qt::LeftButton);
        auto *cancel = child<QPushButton>("sandboxCancelTransfer");
        QVERIFY(cancel->isVisible());
        QVERIFY(child<QProgressBar>("sandboxTransferProgress")->isVisible());
        QVERIFY(!child<QPushButton>("sandboxUpload")->isEnabled()); // one transfer at a time
        QTest::mouseClick(cancel, Qt::LeftButton); // the first chunk is still on its way
        QCOMPARE(transferred.size(), 1);
        QVERIFY(!transferred.constFirst().at(0).toBool());
        QVERIFY(transferred.constFirst().at(1).toString().contains(QStringLiteral("cancelled")));
        QVERIFY(!cancel->isVisible());
        QVERIFY(child<QPushButton>("sandboxUpload")->isEnabled());
        // Neither the file nor its partial copy is left in the VM (the agent answers in order:
        // the in-flight write, then the removal of the partial copy).
        QTRY_VERIFY_WITH_TIMEOUT(!agent({{QStringLiteral("op"), QStringLiteral("stat")},
                                         {QStringLiteral("path"), QStringLiteral("/workspace/notes/.big.txt.vivarium-upload")}})
                                      .ok(),
                                 30000);
        QVERIFY(!agent({{QStringLiteral("op"), QStringLiteral("stat")},
                        {QStringLiteral("path"), QStringLiteral("/workspace/notes/big.txt")}})
                     .ok());
    }

    void failedDownloadSaysWhy()
    {
        auto *tree = child<QTreeWidget>("sandboxFiles");
        QVERIFY(findItem(tree, QStringLiteral("hello.json")));
        // Gone behind the view's back: the listing is stale.
        QVERIFY(agent({{QStringLiteral("op"), QStringLiteral("remove")},
                       {QStringLiteral("path"), QStringLiteral("/workspace/notes/hello.json")}})
                    .ok());
        const QString out = local.filePath(QStringLiteral("never.json"));
        SandboxView::setFileChooser([&](QWidget *, bool, const QString &) { return out; });
        QSignalSpy transferred(sandbox, &SandboxView::transferFinished);
        tree->setCurrentItem(findItem(tree, QStringLiteral("hello.json")));
        QTest::mouseClick(child<QPushButton>("sandboxDownload"), Qt::LeftButton);
        QVERIFY(transferred.wait(60000));
        QVERIFY(!transferred.constFirst().at(0).toBool());
        auto *banner = child<MessageBanner>("sandboxBanner");
        QVERIFY(banner->isVisible() && banner->isError());
        QVERIFY2(banner->text().contains(QStringLiteral("Download of hello.json failed")), qPrintable(banner->text()));
        QVERIFY(!QFile::exists(out));
    }

    void console()
    {
        auto *output = child<QPlainTextEdit>("sandboxConsoleOutput");
        QVERIFY(run(QStringLiteral("echo hi"), 0));
        QVERIFY2(consoleText(output, 2) == QStringLiteral("hi\n"), qPrintable(output->toPlainText()));
        QVERIFY2(consoleText(output, 4).contains(QStringLiteral("exit code 0")), qPrintable(output->toPlainText()));
        QVERIFY(consoleText(output, 1).contains(QStringLiteral("$ echo hi")));
        // The current folder is the command's working directory.
        QVERIFY(run(QStringLiteral("pwd"), 0));
        QVERIFY2(consoleText(output, 2).contains(QStringLiteral("/workspace/notes\n")), qPrintable(output->toPlainText()));
        // stderr is marked as such, and a failing exit code is shown.
        QVERIFY(run(QStringLiteral("echo oops >&2; exit 3"), 3));
        QVERIFY2(consoleText(output, 3) == QStringLiteral("oops\n"), qPrintable(output->toPlainText()));
        QVERIFY(!consoleText(output, 2).contains(QStringLiteral("oops")));
        QVERIFY(consoleText(output, 4).contains(QStringLiteral("exit code 3")));
        // A command that creates a file refreshes the listing.
        QVERIFY(run(QStringLiteral("touch made-by-console.txt"), 0));
        QTRY_VERIFY_WITH_TIMEOUT(findItem(child<QTreeWidget>("sandboxFiles"), QStringLiteral("made-by-console.txt")), 30000);
    }

    // The console streams: output printed by a command that is still running is shown while it
    // runs, not only when it ends; stdout and stderr keep their order and marks.
    void consoleStreams()
    {
        auto *output = child<QPlainTextEdit>("sandboxConsoleOutput");
        auto *input = child<QLineEdit>("sandboxConsoleInput");
        auto *stop = child<QPushButton>("sandboxConsoleStop");
        QTRY_VERIFY_WITH_TIMEOUT(input->isEnabled(), 30000);
        QSignalSpy finished(sandbox, &SandboxView::commandFinished);
        input->setText(QStringLiteral("echo first-line; echo warn-line >&2; sleep 8; echo second-line"));
        QTest::keyClick(input, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(consoleText(output, 2).contains(QStringLiteral("first-line\n")), 60000);
        QTRY_VERIFY_WITH_TIMEOUT(consoleText(output, 3).contains(QStringLiteral("warn-line\n")), 10000);
        // Seen while the command still runs (it sleeps before its last line).
        QVERIFY(finished.isEmpty());
        QVERIFY(stop->isEnabled());
        QVERIFY(!consoleText(output, 2).contains(QStringLiteral("second-line")));
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.constFirst().constFirst().toInt(), 0);
        QVERIFY2(consoleText(output, 2).endsWith(QStringLiteral("first-line\nsecond-line\n")),
                 qPrintable(output->toPlainText()));
        QVERIFY(consoleText(output, 4).endsWith(QStringLiteral("exit code 0\n")));
    }

    // The file list follows the agent's work: a tool result of the session lists the current
    // folder again (no Refresh click, no console command).
    void filesFollowToolResults()
    {
        auto *tree = child<QTreeWidget>("sandboxFiles");
        QVERIFY(!findItem(tree, QStringLiteral("by-the-agent.txt")));
        QVERIFY(
            agent({{QStringLiteral("op"), QStringLiteral("write")},
                   {QStringLiteral("path"), QString(sandbox->currentFolder() + QStringLiteral("/by-the-agent.txt"))},
                   {QStringLiteral("data"), QString::fromLatin1(QByteArray("x").toBase64())}})
                .ok());
        QTest::qWait(500);
        QVERIFY(!findItem(tree, QStringLiteral("by-the-agent.txt"))); // nothing told the view yet
        QSignalSpy listed(sandbox, &SandboxView::listed);
        QVERIFY(h->append(sessionId, {ev::toolUse(QStringLiteral("toolu_files1"), QStringLiteral("write"),
                                                  {{QStringLiteral("file_path"), QStringLiteral("by-the-agent.txt")}}),
                                      ev::toolResult(QStringLiteral("toolu_files1"), QStringLiteral("written"))}));
        QTRY_VERIFY_WITH_TIMEOUT(findItem(tree, QStringLiteral("by-the-agent.txt")), 30000);
        QVERIFY(!listed.isEmpty());
    }

    // Stop kills a running command (its process group in the VM) within seconds; the console
    // says so and takes the next command.
    void consoleStop()
    {
        auto *output = child<QPlainTextEdit>("sandboxConsoleOutput");
        auto *input = child<QLineEdit>("sandboxConsoleInput");
        auto *stop = child<QPushButton>("sandboxConsoleStop");
        QVERIFY(stop->isVisible());
        QVERIFY(!stop->isEnabled()); // nothing runs
        QTRY_VERIFY_WITH_TIMEOUT(input->isEnabled(), 30000);
        QCOMPARE(sleeping(), 1);

        QSignalSpy finished(sandbox, &SandboxView::commandFinished);
        input->setText(QStringLiteral("sleep 60"));
        QTest::keyClick(input, Qt::Key_Return);
        QVERIFY(stop->isEnabled());
        QVERIFY(!input->isEnabled());
        QTRY_COMPARE_WITH_TIMEOUT(sleeping(), 0, 60000); // it runs in the VM
        QVERIFY(finished.isEmpty());
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(stop, Qt::LeftButton);
        QVERIFY(!stop->isEnabled()); // once
        QVERIFY(finished.wait(20000));
        const qint64 tookMs = clock.elapsed();
        qInfo("the stop was reported after %lld ms", tookMs);
        QVERIFY2(tookMs < 15000, qPrintable(QString::number(tookMs)));
        QCOMPARE(finished.constFirst().constFirst().toInt(), -1);
        QVERIFY2(consoleText(output, 4).contains(QStringLiteral("stopped: the command and the processes it started were killed")),
                 qPrintable(output->toPlainText()));
        QVERIFY(!consoleText(output, 4).contains(QStringLiteral("killed by signal")));
        QCOMPARE(sleeping(), 1); // gone from the VM
        QVERIFY(!stop->isEnabled());
        QVERIFY(input->isEnabled());
        QVERIFY(run(QStringLiteral("echo ok"), 0));
        QVERIFY2(consoleText(output, 2).endsWith(QStringLiteral("ok\n")), qPrintable(output->toPlainText()));
    }

    // The console's command belongs to the sandbox shown: showing another (here: none) kills it
    // instead of leaving it running out of reach of the Stop button.
    void switchingAwayStopsTheCommand()
    {
        auto *input = child<QLineEdit>("sandboxConsoleInput");
        QTRY_VERIFY_WITH_TIMEOUT(input->isEnabled(), 30000);
        QCOMPARE(sleeping(), 1);
        QSignalSpy finished(sandbox, &SandboxView::commandFinished);
        input->setText(QStringLiteral("sleep 60"));
        QTest::keyClick(input, Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(sleeping(), 0, 60000);
        sandbox->setSandbox(QString());
        QTRY_COMPARE_WITH_TIMEOUT(sleeping(), 1, 15000);
        QTest::qWait(200);
        QVERIFY(finished.isEmpty()); // the old sandbox's command reports nowhere
        sandbox->setSandbox(sandboxId);
        QTRY_VERIFY_WITH_TIMEOUT(input->isEnabled(), 30000);
        QVERIFY(run(QStringLiteral("echo again"), 0));
    }

    void screenshot()
    {
        if (child<MessageBanner>("sandboxBanner")->isVisible()) // the last test's error: dismissed
            QTest::mouseClick(child<MessageBanner>("sandboxBanner"), Qt::LeftButton);
        QVERIFY(!child<MessageBanner>("sandboxBanner")->isVisible());
        child<QLineEdit>("sandboxConsoleInput")->setText(QStringLiteral("ls -la"));
        QTest::qWait(200);
        const QString dir = QStringLiteral(VIVARIUM_SCREENSHOT_DIR);
        QDir().mkpath(dir);
        const QImage image = view->grab().toImage();
        QVERIFY(!image.isNull());
        QVERIFY(image.save(dir + QStringLiteral("/session-sandbox.png")));
        qInfo("screenshot written to %s/session-sandbox.png", qPrintable(dir));
    }

    void pauseAndResume()
    {
        QTest::mouseClick(child<QPushButton>("sandboxPause"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("paused"), 60000);
        QVERIFY(child<QLabel>("sandboxState")->text().contains(QStringLiteral("Paused")));
        QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>("sandboxResume")->isEnabled(), 10000); // see below
        QVERIFY(!child<QPushButton>("sandboxPause")->isEnabled());
        QVERIFY(!child<QLineEdit>("sandboxConsoleInput")->isEnabled());
        QVERIFY(!child<QPushButton>("sandboxUpload")->isEnabled());
        // The manager agrees.
        auto info = h->run<QJsonObject>([id = sandboxId](Backend &b) -> Result<QJsonObject> {
            auto i = b.sandboxes().get(id);
            if (!i)
                return i.error();
            return i->toJson();
        });
        QVERIFY(info.ok());
        QCOMPARE(info->value(QStringLiteral("state")).toString(), QStringLiteral("paused"));

        QTest::mouseClick(child<QPushButton>("sandboxResume"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("running"), 60000);
        QVERIFY(child<QLabel>("sandboxState")->text().contains(QStringLiteral("Running")));
        // The state can arrive (sandboxChanged) before the resume call's own answer re-enables
        // the buttons.
        QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>("sandboxPause")->isEnabled(), 10000);
        QVERIFY(run(QStringLiteral("echo back"), 0));
    }

    // The idle policy does not pause a VM under the person looking at it: while the Sandbox tab
    // shows the session, an idle session's VM keeps running; once the tab is left, the idle
    // timer starts and the VM is paused.
    void idleHoldWhileOpen()
    {
        auto managerState = [this] {
            auto info = h->run<QJsonObject>([id = sandboxId](Backend &b) -> Result<QJsonObject> {
                auto i = b.sandboxes().get(id);
                if (!i)
                    return i.error();
                return i->toJson();
            });
            return info ? info->value(QStringLiteral("state")).toString() : QString();
        };
        QVERIFY(sandbox->isVisible());
        QCOMPARE(sandbox->state(), QStringLiteral("running"));
        auto held = [this] {
            auto r = h->run<bool>([sid = sessionId](Backend &b) -> Result<bool> {
                auto *tools = dynamic_cast<SandboxToolExecutor *>(&b.runtime().tools());
                return tools && tools->idleHeld(sid);
            });
            return r.ok() && *r;
        };
        QTRY_VERIFY(held());
        // The session is idle (its row changes: the executor learns its status and would start
        // the 2 s idle timer).
        QVERIFY(h->run<QJsonObject>([sid = sessionId](Backend &b) {
                     return b.sessions().update(sid, {{QStringLiteral("metadata"),
                                                       QJsonObject{{QStringLiteral("seen"), QStringLiteral("idle")}}}});
                 }).ok());
        QTest::qWait(6000);
        QCOMPARE(managerState(), QStringLiteral("running"));
        QCOMPARE(sandbox->state(), QStringLiteral("running"));

        // Closed (another tab): the hold is released and the idle policy pauses the VM.
        view->showTab(0);
        QVERIFY(!sandbox->isVisible());
        QTRY_VERIFY(!held());
        QTRY_COMPARE_WITH_TIMEOUT(managerState(), QStringLiteral("paused"), 60000);

        // Open again: held, and resumed by hand; it stays running.
        view->showTab(1);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("paused"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>("sandboxResume")->isEnabled(), 10000);
        QTest::mouseClick(child<QPushButton>("sandboxResume"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("running"), 60000);
        QTest::qWait(4000);
        QCOMPARE(managerState(), QStringLiteral("running"));
        QVERIFY(run(QStringLiteral("echo held"), 0));
    }

    // The Sandboxes area lists it with its session, live, and drives the same VM.
    void sandboxesPageListsIt()
    {
        window = new MainWindow(h->bridge);
        window->resize(1200, 780);
        window->show();
        window->showArea(MainWindow::Sandboxes);
        SandboxesPage *page = window->sandboxesPage();
        QVERIFY(page->isVisible());
        QTreeWidget *list = page->list();
        QTRY_VERIFY_WITH_TIMEOUT(findItem(list, sandboxId), 10000);
        QTreeWidgetItem *item = findItem(list, sandboxId);
        QCOMPARE(item->text(1), QStringLiteral("running"));
        QTRY_COMPARE(item->text(2), QStringLiteral("sandbox view")); // the session's title
        QCOMPARE(item->toolTip(2), sessionId);
        QVERIFY(page->findChild<QLabel *>(QStringLiteral("warmPool"))->text().startsWith(QStringLiteral("Warm pool: ")));
        // What the VMs run under and why (this suite pins tcg: the setting is the reason).
        auto *accel = page->findChild<QLabel *>(QStringLiteral("sandboxAcceleration"));
        QVERIFY(accel);
        QTRY_VERIFY(accel->text().contains(QStringLiteral("VMs run under TCG")));
        QVERIFY2(accel->text().contains(QStringLiteral("set to tcg")), qPrintable(accel->text()));
        list->setCurrentItem(item);
        SandboxView *pageView = page->sandboxView();
        QTRY_COMPARE_WITH_TIMEOUT(pageView->state(), QStringLiteral("running"), 10000);
        // Paused from the session's view: both views and the list follow.
        QTest::mouseClick(child<QPushButton>("sandboxPause"), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(item->text(1), QStringLiteral("paused"), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(pageView->state(), QStringLiteral("paused"), 10000);
        QTest::mouseClick(pageView->findChild<QPushButton *>(QStringLiteral("sandboxResume")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(sandbox->state(), QStringLiteral("running"), 60000);
        QTRY_COMPARE_WITH_TIMEOUT(item->text(1), QStringLiteral("running"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(findItem(pageView->findChild<QTreeWidget *>(QStringLiteral("sandboxFiles")),
                                          QStringLiteral("notes")),
                                 30000);
        QVERIFY(window->grab().toImage().save(QStringLiteral(VIVARIUM_SCREENSHOT_DIR "/main-window-sandboxes.png")));
    }

    // The warm pool's size from Settings applies to the running backend: smaller destroys the
    // unclaimed warm VM (never the session's), larger boots one. The label follows.
    void warmPoolFollowsSettings()
    {
        auto warm = [&] {
            auto r = h->run<int>([](Backend &b) -> Result<int> { return b.sandboxes().warmCount(); });
            return r ? *r : -1;
        };
        auto poolSize = [&] {
            auto r = h->run<int>([](Backend &b) -> Result<int> { return b.sandboxes().warmPoolSize(); });
            return r ? *r : -1;
        };
        auto save = [&](int size) {
            SettingsDialog dialog(h->bridge, window);
            dialog.findChild<QSpinBox *>(QStringLiteral("warmPoolSize"))->setValue(size);
            dialog.show();
            QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveSettings")), Qt::LeftButton);
        };
        const int saved = AppSettings::load().warmPoolSize;
        auto restore = qScopeGuard([saved] {
            AppSettings s = AppSettings::load();
            s.warmPoolSize = saved;
            s.save();
        });
        QCOMPARE(poolSize(), 1); // VIVARIUM_WARM_POOL=1
        // Refilled after the session's claim.
        QTRY_COMPARE_WITH_TIMEOUT(warm(), 1, 180000);
        auto *label = window->sandboxesPage()->findChild<QLabel *>(QStringLiteral("warmPool"));
        QTRY_COMPARE_WITH_TIMEOUT(label->text(), QStringLiteral("Warm pool: 1 VM ready"), 10000);

        save(0);
        QTRY_COMPARE_WITH_TIMEOUT(poolSize(), 0, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(warm(), 0, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(label->text(), QStringLiteral("Warm pool: 0 VM ready"), 10000);
        QCOMPARE(AppSettings::load().warmPoolSize, 0); // and for the next start
        // The session's VM is claimed: untouched, and nothing refills the pool.
        QCOMPARE(sandbox->state(), QStringLiteral("running"));
        QVERIFY(run(QStringLiteral("echo still here"), 0));
        QCOMPARE(warm(), 0);

        save(1);
        QTRY_COMPARE_WITH_TIMEOUT(poolSize(), 1, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(warm(), 1, 180000);
        QTRY_COMPARE_WITH_TIMEOUT(label->text(), QStringLiteral("Warm pool: 1 VM ready"), 10000);
    }

    void sessionLosesItsSandbox()
    {
        const QString sid = sessionId;
        auto released = waitFor<Ok>(
            *h, [sid](Backend &b, Callback<Ok> cb) { b.sandboxes().releaseSession(sid, true, std::move(cb)); }, 60000);
        QVERIFY2(released.ok(), released.ok() ? "" : qPrintable(released.error().message()));
        auto *empty = child<QLabel>("sandboxEmpty");
        QTRY_VERIFY_WITH_TIMEOUT(empty->isVisible(), 10000);
        QVERIFY(sandbox->sandboxId().isEmpty());
        QVERIFY2(empty->text().contains(QStringLiteral("next tool call")), qPrintable(empty->text()));
        delete view;
        view = nullptr;
        // Gone from the Sandboxes list, and from the page's view.
        QTRY_VERIFY_WITH_TIMEOUT(!findItem(window->sandboxesPage()->list(), sandboxId), 10000);
        QTRY_VERIFY(window->sandboxesPage()->sandboxView()->sandboxId().isEmpty());
    }

    // A raw sandbox (as /v1/sandboxes creates) deleted from the Sandboxes area.
    void deleteFromSandboxesPage()
    {
        auto created = waitFor<SandboxManager::Info>(
            *h, [](Backend &b, Callback<SandboxManager::Info> cb) { b.sandboxes().create(QString(), 600, std::move(cb)); },
            5 * 60 * 1000);
        QVERIFY2(created.ok(), created.ok() ? "" : qPrintable(created.error().message()));
        const QString id = created->id;
        SandboxesPage *page = window->sandboxesPage();
        QTRY_VERIFY_WITH_TIMEOUT(findItem(page->list(), id), 10000);
        QCOMPARE(findItem(page->list(), id)->text(2), QStringLiteral("(API)"));
        page->list()->setCurrentItem(findItem(page->list(), id));
        QTRY_COMPARE_WITH_TIMEOUT(page->sandboxView()->state(), QStringLiteral("running"), 10000);
        QTest::mouseClick(page->findChild<QPushButton *>(QStringLiteral("deleteSandbox")), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!findItem(page->list(), id), 60000);
        QTRY_VERIFY(page->sandboxView()->sandboxId().isEmpty());
        auto *empty = page->sandboxView()->findChild<QLabel *>(QStringLiteral("sandboxEmpty"));
        QVERIFY(empty->isVisible());
        QVERIFY2(empty->text().contains(QStringLiteral("Select a sandbox")), qPrintable(empty->text()));
        auto *banner = page->findChild<MessageBanner *>(QStringLiteral("sandboxesBanner"));
        QTRY_VERIFY2_WITH_TIMEOUT(banner->text().contains(QStringLiteral("deleted")), qPrintable(banner->text()), 30000);
        auto gone = h->run<QJsonObject>([id](Backend &b) -> Result<QJsonObject> {
            auto i = b.sandboxes().get(id);
            if (!i)
                return i.error();
            return i->toJson();
        });
        QVERIFY(!gone.ok());
        QCOMPARE(gone.error().kind(), ApiError::Kind::NotFound);
        delete window;
        window = nullptr;
    }

    void guestImageReadyOnEnvironmentsPage()
    {
        EnvironmentsPage page(h->bridge);
        page.show();
        page.reload();
        auto *state = page.findChild<QLabel *>(QStringLiteral("guestImageState"));
        QTRY_VERIFY_WITH_TIMEOUT(state->text().contains(QStringLiteral("Ready")), 10000);
        QVERIFY(!page.findChild<QPushButton *>(QStringLiteral("guestImageBuild"))->isEnabled());
        QVERIFY(!page.findChild<QProgressBar *>(QStringLiteral("guestImageProgress"))->isVisible());
    }

    // The package layer of the selected environment. No real build: the layer's files are
    // written where EnvironmentLayers::status() looks (<imageDir>/layers/<hash>/).
    void environmentLayerStates()
    {
        const QString tag = QString::number(QRandomGenerator::global()->generate(), 16);
        auto create = [&](const QString &name, const QJsonArray &apt) {
            QJsonObject params;
            params.insert(QStringLiteral("name"), QString(name + u' ' + tag));
            if (!apt.isEmpty()) {
                QJsonObject packages;
                packages.insert(QStringLiteral("type"), QStringLiteral("packages"));
                packages.insert(QStringLiteral("apt"), apt);
                QJsonObject config;
                config.insert(QStringLiteral("type"), QStringLiteral("cloud"));
                config.insert(QStringLiteral("packages"), packages);
                params.insert(QStringLiteral("config"), config);
            }
            auto r = h->run<QJsonObject>([params](Backend &b) { return b.environments().create(params); });
            return r ? *r : QJsonObject{};
        };
        // The directory status() reads for an environment's layer, and its hash.
        auto layerOf = [&](const QJsonObject &env) -> std::pair<QString, QString> {
            const QJsonObject config = env.value(QStringLiteral("config")).toObject();
            auto r = h->run<QJsonObject>([config](Backend &b) -> Result<QJsonObject> {
                if (!b.layers())
                    return ApiError::internal(QStringLiteral("no EnvironmentLayers (VIVARIUM_SANDBOX_TOOLS=0?)"));
                const EnvironmentLayers::Status st = b.layers()->status(config);
                return QJsonObject{{QStringLiteral("hash"), st.hash},
                                   {QStringLiteral("dir"), QFileInfo(st.logPath).absolutePath()}};
            });
            return r ? std::pair{r->value(QStringLiteral("dir")).toString(), r->value(QStringLiteral("hash")).toString()}
                     : std::pair<QString, QString>{};
        };
        const QJsonObject plain = create(QStringLiteral("no packages"), {});
        const QJsonObject unbuilt = create(QStringLiteral("not built"), QJsonArray{QString(QStringLiteral("vivarium-gui-unbuilt-") + tag)});
        const QJsonObject failed = create(QStringLiteral("failed"), QJsonArray{QString(QStringLiteral("vivarium-gui-failed-") + tag)});
        const QJsonObject ready = create(QStringLiteral("ready"), QJsonArray{QString(QStringLiteral("vivarium-gui-ready-") + tag)});
        QVERIFY(!plain.isEmpty() && !unbuilt.isEmpty() && !failed.isEmpty() && !ready.isEmpty());
        const auto failedLayer = layerOf(failed);
        const auto readyLayer = layerOf(ready);
        const QString failedDir = failedLayer.first, failedHash = failedLayer.second;
        const QString readyDir = readyLayer.first, readyHash = readyLayer.second;
        QVERIFY(!failedHash.isEmpty() && !readyHash.isEmpty() && failedHash != readyHash);
        auto cleanup = qScopeGuard([&] {
            QDir(failedDir).removeRecursively();
            QDir(readyDir).removeRecursively();
        });
        QVERIFY(QDir().mkpath(failedDir) && QDir().mkpath(readyDir));
        auto write = [](const QString &path, const QByteArray &data) {
            QFile f(path);
            return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
        };
        QVERIFY(write(failedDir + QStringLiteral("/failed"), "E: Unable to locate package vivarium-gui-failed"));
        QVERIFY(write(failedDir + QStringLiteral("/build.log"), "Reading package lists...\nE: Unable to locate package\n"));
        QVERIFY(write(readyDir + QStringLiteral("/layer.qcow2"), QByteArray()));

        EnvironmentsPage page(h->bridge);
        page.show();
        page.reload();
        // The list first: an item view that gains focus with no current item opens its first
        // one (Qt), which would race the environment this test opens.
        QVERIFY(QTest::qWaitForWindowActive(&page));
        auto *list = page.findChild<QListWidget *>();
        QVERIFY(list);
        QTRY_VERIFY_WITH_TIMEOUT(list->count() >= 4, 10000);
        auto *state = page.findChild<QLabel *>(QStringLiteral("environmentLayerState"));
        auto *build = page.findChild<QPushButton *>(QStringLiteral("environmentLayerBuild"));
        auto *progress = page.findChild<QProgressBar *>(QStringLiteral("environmentLayerProgress"));
        auto *showLog = page.findChild<QPushButton *>(QStringLiteral("environmentLayerShowLog"));
        QVERIFY(state && build && progress && showLog);
        auto open = [&](const QJsonObject &env) { page.openEnvironment(env.value(QStringLiteral("id")).toString()); };

        open(plain);
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("No packages — uses the base image"), 10000);
        QVERIFY(!build->isEnabled());
        QVERIFY(!showLog->isEnabled());
        QVERIFY(!progress->isVisible());

        open(unbuilt);
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("Not built yet — builds with the first session"), 10000);
        QCOMPARE(build->text(), QStringLiteral("Build now"));
        QVERIFY(build->isEnabled());
        QVERIFY(!showLog->isEnabled());

        open(failed);
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("Failed: E: Unable to locate package vivarium-gui-failed"), 10000);
        QCOMPARE(build->text(), QStringLiteral("Rebuild"));
        QVERIFY(build->isEnabled());
        QVERIFY(showLog->isEnabled());
        QVERIFY(!progress->isVisible());
        QTest::mouseClick(showLog, Qt::LeftButton);
        auto *dialog = page.findChild<QDialog *>(QStringLiteral("environmentLayerLogDialog"));
        QVERIFY(dialog);
        auto *log = dialog->findChild<QPlainTextEdit *>(QStringLiteral("environmentLayerLog"));
        QVERIFY(log);
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(QStringLiteral("Reading package lists")), 10000);
        dialog->close();

        // Live: the page follows statusChanged of the shown layer (emitted here on the backend
        // thread as a build would), and ignores other layers'.
        auto emitStatus = [&](const QString &hash, EnvironmentLayers::State st, const QString &text) {
            return bool(h->run<Ok>([hash, st, text](Backend &b) -> Result<Ok> {
                Q_EMIT b.layers()->statusChanged(hash, st, text);
                return Ok{};
            }));
        };
        QVERIFY(emitStatus(readyHash, EnvironmentLayers::State::Building, QStringLiteral("another layer")));
        QVERIFY(emitStatus(failedHash, EnvironmentLayers::State::Building, QStringLiteral("installing apt packages")));
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("Building: installing apt packages"), 10000);
        QVERIFY(progress->isVisible());
        QCOMPARE(progress->maximum(), 0); // busy
        QVERIFY(!build->isEnabled());
        QVERIFY(showLog->isEnabled());
        QVERIFY(emitStatus(failedHash, EnvironmentLayers::State::Failed, QStringLiteral("apt-get exited with 100")));
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("Failed: apt-get exited with 100"), 10000);
        QVERIFY(!progress->isVisible());
        QVERIFY(build->isEnabled());

        open(ready);
        QTRY_COMPARE_WITH_TIMEOUT(state->text(), QStringLiteral("Ready"), 10000);
        QCOMPARE(build->text(), QStringLiteral("Rebuild"));
        QVERIFY(build->isEnabled());
        QVERIFY(!showLog->isEnabled()); // no build.log
        QVERIFY(!progress->isVisible());
        page.resize(1000, 700);
        QVERIFY(page.grab().toImage().save(QStringLiteral(VIVARIUM_SCREENSHOT_DIR "/environments-layer-ready.png")));
    }

    // A real GuestImage running a stand-in recipe: progress is shown while it builds, the log
    // follows, and a failed build says so where the user asked for it.
    void guestImageBuildProgressAndFailure()
    {
        QTemporaryDir dir;
        const QString recipe = dir.filePath(QStringLiteral("recipe"));
        QVERIFY(QDir().mkpath(recipe));
        QFile script(recipe + QStringLiteral("/build-image.sh"));
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("echo 'PROGRESS 40 fetching the kernel'\n"
                     "echo \"building into $1\"\n"
                     "while [ ! -e \"$(dirname \"$0\")/../release\" ]; do sleep 0.05; done\n"
                     "echo 'error: the mirror is unreachable'\n"
                     "exit 3\n");
        script.close();
        const QByteArray oldRecipe = qgetenv("VIVARIUM_GUEST_RECIPE_DIR");
        const QByteArray oldImages = qgetenv("VIVARIUM_IMAGE_DIR");
        qputenv("VIVARIUM_GUEST_RECIPE_DIR", recipe.toUtf8());
        qputenv("VIVARIUM_IMAGE_DIR", dir.filePath(QStringLiteral("images")).toUtf8());
        GuiHarness other;
        const bool ready = other.waitReady();
        qputenv("VIVARIUM_GUEST_RECIPE_DIR", oldRecipe);
        qputenv("VIVARIUM_IMAGE_DIR", oldImages);
        QVERIFY(ready);

        EnvironmentsPage page(other.bridge);
        page.show();
        page.reload();
        auto *state = page.findChild<QLabel *>(QStringLiteral("guestImageState"));
        auto *build = page.findChild<QPushButton *>(QStringLiteral("guestImageBuild"));
        auto *progress = page.findChild<QProgressBar *>(QStringLiteral("guestImageProgress"));
        auto *showLog = page.findChild<QPushButton *>(QStringLiteral("guestImageShowLog"));
        QTRY_VERIFY_WITH_TIMEOUT(state->text().contains(QStringLiteral("Not built yet")), 10000);
        QVERIFY(build->isEnabled());
        QVERIFY(!showLog->isEnabled());

        QTest::mouseClick(build, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(progress->isVisible() && progress->value() == 40, 20000);
        QVERIFY2(state->text().contains(QStringLiteral("fetching the kernel")), qPrintable(state->text()));
        QVERIFY(!build->isEnabled());
        QVERIFY(showLog->isEnabled());

        QTest::mouseClick(showLog, Qt::LeftButton);
        auto *dialog = page.findChild<QDialog *>(QStringLiteral("guestImageLogDialog"));
        QVERIFY(dialog);
        auto *log = dialog->findChild<QPlainTextEdit *>(QStringLiteral("guestImageLog"));
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(QStringLiteral("building into")), 10000);
        page.resize(1000, 700);
        QVERIFY(page.grab().toImage().save(QStringLiteral(VIVARIUM_SCREENSHOT_DIR "/environments-image-building.png")));

        QFile release(dir.filePath(QStringLiteral("release")));
        QVERIFY(release.open(QIODevice::WriteOnly));
        release.close();
        QTRY_VERIFY_WITH_TIMEOUT(state->text().contains(QStringLiteral("The build failed")), 20000);
        QVERIFY(!progress->isVisible());
        auto *banner = page.findChild<MessageBanner *>(QStringLiteral("environmentBanner"));
        QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible() && banner->isError(), 10000);
        QVERIFY2(banner->text().contains(QStringLiteral("Building the guest image failed")), qPrintable(banner->text()));
        QVERIFY(build->isEnabled()); // try again
        // The open log follows the build to its end.
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(QStringLiteral("the mirror is unreachable")), 10000);
    }

    void cleanupTestCase()
    {
        delete window;
        delete view;
        SandboxView::setFileChooser({});
        h.reset();
    }
};

QTEST_MAIN(TestGuiSandbox)
#include "tst_gui_sandbox.moc"
