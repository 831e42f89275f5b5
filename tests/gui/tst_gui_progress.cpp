// The session view while a session's first tool call waits for its sandbox (issue 12, item 3),
// against the real runtime, the scripted model provider and real VMs (TCG):
//  - the guest image cache starts EMPTY, so the first bash call waits for a real image build:
//    the progress panel shows "Building the sandbox image: N% <step>" with the percentage
//    advancing and the bar following it, the Sandbox tab says "Preparing…" with the same text,
//    then the VM boot (software emulation), then the panel goes and the tool's result is in
//    the transcript;
//  - an environment whose apt package does not exist: the panel shows the package layer being
//    installed, then the failure with what to do next (Open Environments … build log).
// With VIVARIUM_TEST_PROGRESS=image-failure (a ctest entry of its own, no VM) the image recipe
// is one that reports progress and then fails: the failure names the image build log and says
// that the next tool call builds it again, and the tool call's result is the error.
#include "GuiHarness.h"
#include "SandboxProgressPanel.h"
#include "../ScriptedProvider.h"
#include "SessionView.h"
#include "TranscriptModel.h"

#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>

using namespace viv;

namespace {

// What the view showed each time the backend reported progress for the session.
struct Shown
{
    QString phase;
    QString text;     // the panel's text
    QString hint;     // the panel's next-step line
    bool visible = false;
    int barValue = -1;
    int barMax = -1;
    QString sandboxTab; // the Sandbox tab's text while it has no VM
};

bool imageFailureMode()
{
    return qEnvironmentVariable("VIVARIUM_TEST_PROGRESS") == u"image-failure";
}

} // namespace

class TestGuiProgress : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("VIVARIUM_MODEL_RETRY_BASE_MS", "50");
        qputenv("VIVARIUM_MODEL_MAX_RETRIES", "1");
        // An empty image cache of its own: the first tool call really waits for the build. No
        // warm pool, so that the session's VM is booted for it (and nothing else competes for
        // the two cores).
        QVERIFY(imageDir.isValid());
        qputenv("VIVARIUM_IMAGE_DIR", imageDir.path().toUtf8());
        qputenv("VIVARIUM_WARM_POOL", "0");
        if (imageFailureMode()) {
            // A recipe whose build reports two steps, then fails as a broken mirror would.
            QVERIFY(recipeDir.isValid());
            QFile script(recipeDir.filePath(QStringLiteral("build-image.sh")));
            QVERIFY(script.open(QIODevice::WriteOnly));
            script.write("#!/bin/bash\necho 'PROGRESS 3 downloading the cloud kernel'\nsleep 0.5\n"
                         "echo 'PROGRESS 9 building the initramfs'\nsleep 0.5\n"
                         "echo 'E: the test recipe stops here'\nexit 3\n");
            script.close();
            qputenv("VIVARIUM_GUEST_RECIPE_DIR", recipeDir.path().toUtf8());
        }
        QVERIFY2(provider.start(), "the scripted provider did not start");
        h = std::make_unique<GuiHarness>(provider.url);
        QVERIFY(h->waitReady());
        auto ready = h->run<bool>([](Backend &b) -> Result<bool> {
            return b.sandboxes().image().state() == GuestImage::State::Ready;
        });
        QVERIFY(ready && !*ready);
    }
    void cleanupTestCase() { h.reset(); }

    void firstToolCallWaitsForTheImageBuild()
    {
        QVERIFY2(!imageFailureMode(), "runs in ctest tst_gui_progress (a recipe that builds)");
        const QString env = h->createEnvironment(QStringLiteral("progress")).value(QStringLiteral("id")).toString();
        QVERIFY(!env.isEmpty());
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("echo waited-$((6*7))")}}),
                                  textReply(QStringLiteral("The sandbox answered."))}));
        auto view = openNewSession(env);
        QList<Shown> shown;
        record(*view, shown);
        send(*view, QStringLiteral("run something"));

        // The tool call's row gets its result once the image is built and the VM is up.
        int row = -1;
        QTRY_VERIFY_WITH_TIMEOUT((row = toolRow(*view)) >= 0
                                     && view->model()->index(row).data(TranscriptModel::HasResultRole).toBool(),
                                 20 * 60 * 1000);
        QVERIFY2(view->model()->index(row).data(TranscriptModel::OutputRole).toString().contains(QStringLiteral("waited-42")),
                 qPrintable(view->model()->index(row).data(TranscriptModel::OutputRole).toString()));
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("The sandbox answered.")) >= 0, 60000);

        // The image build was shown with its percentage advancing, the bar following it.
        const QRegularExpression imageText(QStringLiteral("^Building the sandbox image: (\\d+)% \\S"));
        QList<int> percents;
        for (const Shown &s : std::as_const(shown)) {
            if (s.phase != u"image")
                continue;
            const auto m = imageText.match(s.text);
            QVERIFY2(m.hasMatch(), qPrintable(s.text));
            QVERIFY(s.visible);
            QCOMPARE(s.barMax, 100);
            QCOMPARE(s.barValue, m.captured(1).toInt());
            QVERIFY2(s.sandboxTab == QStringLiteral("Preparing… ") + s.text, qPrintable(s.sandboxTab));
            if (percents.isEmpty() || percents.constLast() != m.captured(1).toInt())
                percents << m.captured(1).toInt();
        }
        qInfo() << "image build percentages shown:" << percents;
        QVERIFY2(percents.size() >= 3, "the image build's progress was not shown advancing");
        for (qsizetype i = 1; i < percents.size(); ++i)
            QVERIFY(percents.at(i) > percents.at(i - 1));
        // Then the VM boot, under software emulation (the suite runs TCG), after the build.
        const auto boot = std::find_if(shown.cbegin(), shown.cend(), [](const Shown &s) { return s.phase == u"vm"; });
        QVERIFY2(boot != shown.cend(), "the VM boot was not shown");
        QCOMPARE(boot->text, QStringLiteral("Booting the sandbox VM (software emulation, slower)"));
        QVERIFY(std::none_of(boot, shown.cend(), [](const Shown &s) { return s.phase == u"image"; }));
        // Ready: the panel is gone.
        QCOMPARE(shown.constLast().phase, QStringLiteral("ready"));
        QVERIFY(!shown.constLast().visible);
        QVERIFY(!view->sandboxProgress()->isVisible());
    }

    void packageLayerFailureSaysWhatToDo()
    {
        QVERIFY2(!imageFailureMode(), "runs in ctest tst_gui_progress (a recipe that builds)");
        auto env = h->run<QJsonObject>([](Backend &b) {
            return b.environments().create(QJsonObject{
                {QStringLiteral("name"), QStringLiteral("broken-packages")},
                {QStringLiteral("config"),
                 QJsonObject{{QStringLiteral("type"), QStringLiteral("cloud")},
                             {QStringLiteral("packages"),
                              QJsonObject{{QStringLiteral("type"), QStringLiteral("packages")},
                                          {QStringLiteral("apt"), QJsonArray{QStringLiteral("vivarium-no-such-package-3f9c")}}}}}}});
        });
        QVERIFY2(env, qPrintable(env ? QString() : env.error().message()));
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("echo never")}}),
                                  textReply(QStringLiteral("unused"))}));
        auto view = openNewSession(env->value(QStringLiteral("id")).toString());
        QList<Shown> shown;
        record(*view, shown);
        send(*view, QStringLiteral("run something"));

        auto *text = view->findChild<QLabel *>(QStringLiteral("sandboxProgressText"));
        auto *hint = view->findChild<QLabel *>(QStringLiteral("sandboxProgressHint"));
        QVERIFY(text && hint);
        QTRY_VERIFY_WITH_TIMEOUT(text->isVisible() && text->text().startsWith(QStringLiteral("The sandbox could not be prepared: ")),
                                 15 * 60 * 1000);
        QVERIFY2(text->text().contains(QStringLiteral("vivarium-no-such-package-3f9c"))
                     || text->text().contains(QStringLiteral("build.log")),
                 qPrintable(text->text()));
        QVERIFY(hint->isVisible());
        QVERIFY2(hint->text().startsWith(QStringLiteral("Open Environments to see the package build log")), qPrintable(hint->text()));
        QVERIFY(!view->findChild<QProgressBar *>(QStringLiteral("sandboxProgressBar"))->isVisible());
        // Before the failure, the layer's install was shown.
        const bool sawLayer = std::any_of(shown.cbegin(), shown.cend(), [](const Shown &s) {
            return s.phase == u"layer" && s.text.startsWith(QStringLiteral("Installing the environment's packages (see log)"));
        });
        QVERIFY2(sawLayer, "the package layer's install was not shown");
        QCOMPARE(shown.constLast().phase, QStringLiteral("failed"));
        // The session cannot run tools without its layer: it ended.
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->lastStatus(), QStringLiteral("terminated"), 60000);
        // Dismiss hides the failure.
        QTest::mouseClick(view->findChild<QPushButton *>(QStringLiteral("sandboxProgressDismiss")), Qt::LeftButton);
        QVERIFY(!view->sandboxProgress()->isVisible());
    }

    void imageBuildFailureSaysWhatToDo()
    {
        QVERIFY2(imageFailureMode(), "runs with VIVARIUM_TEST_PROGRESS=image-failure (ctest tst_gui_progress_image_failure)");
        const QString env = h->createEnvironment(QStringLiteral("image-failure")).value(QStringLiteral("id")).toString();
        QVERIFY(!env.isEmpty());
        QVERIFY(provider.enqueue({toolReply(QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("echo never")}}),
                                  textReply(QStringLiteral("No sandbox today."))}));
        auto view = openNewSession(env);
        QList<Shown> shown;
        record(*view, shown);
        send(*view, QStringLiteral("run something"));

        int row = -1;
        QTRY_VERIFY_WITH_TIMEOUT((row = toolRow(*view)) >= 0
                                     && view->model()->index(row).data(TranscriptModel::HasResultRole).toBool(),
                                 60000);
        const QString output = view->model()->index(row).data(TranscriptModel::OutputRole).toString();
        QVERIFY2(output.contains(QStringLiteral("building the guest image failed (exit 3)")), qPrintable(output));
        // The build's two steps were shown, then the failure with the log and the retry.
        QStringList texts;
        for (const Shown &s : std::as_const(shown))
            texts << s.text;
        QVERIFY2(texts.contains(QStringLiteral("Building the sandbox image: 3% downloading the cloud kernel")), qPrintable(texts.join(u'|')));
        QVERIFY2(texts.contains(QStringLiteral("Building the sandbox image: 9% building the initramfs")), qPrintable(texts.join(u'|')));
        QCOMPARE(shown.constLast().phase, QStringLiteral("failed"));
        QCOMPARE(shown.at(shown.size() - 2).phase, QStringLiteral("image")); // straight from the build to its failure
        auto *text = view->findChild<QLabel *>(QStringLiteral("sandboxProgressText"));
        auto *hint = view->findChild<QLabel *>(QStringLiteral("sandboxProgressHint"));
        QVERIFY(text->isVisible() && hint->isVisible());
        QVERIFY2(text->text().startsWith(QStringLiteral("The sandbox could not be prepared: ")), qPrintable(text->text()));
        QVERIFY2(text->text().contains(QStringLiteral("building the guest image failed (exit 3)")), qPrintable(text->text()));
        QVERIFY2(hint->text().startsWith(QStringLiteral("See the image build log (") + imageDir.path())
                     && hint->text().endsWith(QStringLiteral(".log); the next tool call builds the image again.")),
                 qPrintable(hint->text()));
        // The session goes on (the model got the error as the tool's result).
        QTRY_VERIFY_WITH_TIMEOUT(rowWithBody(*view, QStringLiteral("No sandbox today.")) >= 0, 30000);
        // A session opened now is shown the failure too (read from the backend, not a signal).
        SessionView other(h->bridge);
        other.resize(900, 700);
        other.show();
        other.openSession(view->sessionId());
        QTRY_VERIFY_WITH_TIMEOUT(other.findChild<QLabel *>(QStringLiteral("sandboxProgressText"))->text() == text->text(), 10000);
    }

private:
    void record(SessionView &view, QList<Shown> &shown)
    {
        // Connected after the view's own connection: the view has applied the progress.
        SessionView *v = &view;
        connect(&h->bridge, &BackendBridge::sandboxProgressChanged, v, [v, &shown](const QString &id, const QJsonObject &p) {
            if (id != v->sessionId())
                return;
            Shown s;
            s.phase = p.value(QStringLiteral("phase")).toString();
            s.text = v->findChild<QLabel *>(QStringLiteral("sandboxProgressText"))->text();
            s.hint = v->findChild<QLabel *>(QStringLiteral("sandboxProgressHint"))->text();
            s.visible = v->sandboxProgress()->isVisible();
            auto *bar = v->findChild<QProgressBar *>(QStringLiteral("sandboxProgressBar"));
            s.barValue = bar->value();
            s.barMax = bar->maximum();
            s.sandboxTab = v->findChild<QLabel *>(QStringLiteral("sandboxEmpty"))->text();
            qInfo().noquote() << "progress:" << s.phase << "|" << s.text << "|" << s.hint;
            shown << s;
        });
    }

    std::unique_ptr<SessionView> openNewSession(const QString &env)
    {
        const QJsonArray tools{QJsonObject{{QStringLiteral("type"), QStringLiteral("agent_toolset_20260401")}}};
        const QString agent = h->createAgent(QStringLiteral("scripted"), tools).value(QStringLiteral("id")).toString();
        auto r = h->run<QJsonObject>([agent, env](Backend &b) {
            return b.sessions().create(QJsonObject{{QStringLiteral("agent"), agent}, {QStringLiteral("environment_id"), env}});
        });
        if (!r)
            qWarning() << r.error().message();
        auto view = std::make_unique<SessionView>(h->bridge);
        view->resize(900, 700);
        view->show();
        QSignalSpy loaded(view.get(), &SessionView::transcriptLoaded);
        view->openSession(r ? r->value(QStringLiteral("id")).toString() : QString());
        loaded.wait(10000);
        return view;
    }

    static void send(SessionView &view, const QString &text)
    {
        view.findChild<QPlainTextEdit *>(QStringLiteral("composer"))->setPlainText(text);
        QTest::mouseClick(view.findChild<QPushButton *>(QStringLiteral("sendButton")), Qt::LeftButton);
    }

    static int toolRow(SessionView &view)
    {
        for (int i = 0; i < view.model()->rowCount(); ++i)
            if (view.model()->index(i).data(TranscriptModel::EventTypeRole).toString() == u"agent.tool_use")
                return i;
        return -1;
    }

    static int rowWithBody(SessionView &view, const QString &body)
    {
        for (int i = 0; i < view.model()->rowCount(); ++i)
            if (view.model()->index(i).data(TranscriptModel::BodyRole).toString() == body)
                return i;
        return -1;
    }

    QTemporaryDir imageDir;
    QTemporaryDir recipeDir;
    ScriptedProvider provider;
    std::unique_ptr<GuiHarness> h;
};

QTEST_MAIN(TestGuiProgress)
#include "tst_gui_progress.moc"
