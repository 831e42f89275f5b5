// Steering a live agent without losing an edit or misreading a state, through the real main
// window by objectName (issue 16):
//   - nothing lost: the agent, environment and credential editors mark unsaved changes (marker,
//     "* " in the list, the window's "*"), ask Save / Discard / Cancel before switching item or
//     closing the window (the real QMessageBox, answered by clicking its buttons), save with Ctrl+S;
//   - nothing stale: the New-session dialog offers the version just saved and starts the session
//     on it, follows versions saved while it is open; the designer follows versions saved elsewhere;
//   - nothing hidden: a session waiting for a decision reads "needs you" in the list (not "idle"),
//     can be filtered, counts in the window title, and raises a desktop notification naming the
//     app and the tool when the window is not active;
//   - session management: rename, archive and delete from the session view (confirmations state
//     the consequences); untitled sessions read "agent · local start time", never an id;
//   - keyboard: new agent/session, send, interrupt, approve, deny, next "needs you" session, and
//     Help → Keyboard shortcuts lists them;
//   - find in the transcript (Ctrl+F, next/previous, Esc closes without interrupting) and export
//     as Markdown (line breaks kept) and as JSON (the raw events, equal to the log).
#include "AgentsPage.h"
#include "DecisionTracker.h"
#include "DesktopNotifier.h"
#include "GuiHarness.h"
#include "MainWindow.h"
#include "SessionView.h"
#include "SessionsPage.h"
#include "TranscriptExport.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"
#include "Widgets.h"
#include "services/VaultService.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QImage>
#include <QFile>
#include <QJsonDocument>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>

using namespace viv;

namespace {

// Runs `answer` on the next modal dialog once it is up (its exec() is running).
void onNextModal(std::function<void(QWidget *)> answer)
{
    auto *timer = new QTimer(qApp);
    timer->setObjectName(QStringLiteral("modalAnswer")); // cleanup() drops those never used
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, qApp, [timer, answer] {
        QWidget *modal = QApplication::activeModalWidget();
        if (!modal || !modal->isVisible())
            return;
        timer->stop();
        timer->deleteLater();
        answer(modal);
    });
    timer->start();
}

// Clicks `button` of the next QMessageBox; records which dialog it was and its text.
void answerNextBox(QMessageBox::StandardButton button, QString *seen = nullptr)
{
    onNextModal([button, seen](QWidget *w) {
        auto *box = qobject_cast<QMessageBox *>(w);
        if (!box) {
            qWarning("expected a message box, got %s", qPrintable(w->objectName()));
            w->close();
            return;
        }
        if (seen)
            *seen = box->objectName() + QLatin1Char('|') + box->text();
        box->button(button)->click();
    });
}

int rowWithId(const QListWidget *list, const QString &id)
{
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toString() == id)
            return i;
    return -1;
}

} // namespace

class TestGuiSteering : public QObject
{
    Q_OBJECT
    std::unique_ptr<GuiHarness> h;
    MainWindow *window = nullptr;
    QStringList notifications;
    QString env;

    template <typename T>
    T *find(const QString &name) const
    {
        T *w = window->findChild<T *>(name);
        if (!w)
            qWarning("no widget %s", qPrintable(name));
        return w;
    }

    QString sessionStatusInList(const QString &id) const
    {
        const QStandardItemModel *m = window->sessionsPage()->listModel();
        for (int row = 0; row < m->rowCount(); ++row)
            if (m->item(row, 0)->data(Qt::UserRole + 1).toString() == id)
                return m->item(row, 2)->text();
        return QStringLiteral("<not listed>");
    }

    QString sessionTitleInList(const QString &id) const
    {
        const QStandardItemModel *m = window->sessionsPage()->listModel();
        for (int row = 0; row < m->rowCount(); ++row)
            if (m->item(row, 0)->data(Qt::UserRole + 1).toString() == id)
                return m->item(row, 0)->text();
        return QStringLiteral("<not listed>");
    }

    QString createSession(const QString &agent, const QString &title = {})
    {
        QJsonObject params{{QStringLiteral("agent"), agent}, {QStringLiteral("environment_id"), env}};
        if (!title.isEmpty())
            params.insert(QStringLiteral("title"), title);
        auto r = h->run<QJsonObject>([params](Backend &b) { return b.sessions().create(params); });
        return r ? r->value(QStringLiteral("id")).toString() : QString();
    }

    // The session waits for a confirmation of `tool` (as the runtime writes it).
    bool askForConfirmation(const QString &session, const QString &toolUseId, const QString &tool)
    {
        return h->append(session, {ev::status(QStringLiteral("running")),
                                   ev::toolUse(toolUseId, tool, QJsonObject{{QStringLiteral("command"), QStringLiteral("ls")}}, true),
                                   ev::idle({toolUseId})});
    }

    QStringList loggedTypes(const QString &session)
    {
        QStringList out;
        for (const QJsonObject &e : h->eventsOf(session))
            out << e.value(QStringLiteral("type")).toString();
        return out;
    }

    void activate()
    {
        window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window));
    }

    // A key pressed in `w` the way a person does: the window in front, `w` focused (a closed
    // modal dialog leaves no window active on the offscreen platform).
    void press(QWidget *w, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier)
    {
        if (!window->isActiveWindow()) {
            window->activateWindow();
            QVERIFY(QTest::qWaitForWindowActive(window));
        }
        if (w != window)
            w->setFocus();
        QTest::keyClick(w, key, mods);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        // Approved tool calls must not boot a VM here: the no-sandbox executor answers them.
        qputenv("VIVARIUM_SANDBOX_TOOLS", "0");
        h = std::make_unique<GuiHarness>();
        QVERIFY(h->waitReady());
        env = h->createEnvironment(QStringLiteral("steering")).value(QStringLiteral("id")).toString();
        QVERIFY(!env.isEmpty());
        DesktopNotifier::setHook([this](const QString &title, const QString &body) {
            notifications << title + QLatin1Char('|') + body;
        });
        window = new MainWindow(h->bridge);
        window->show();
        activate();
    }

    void cleanup()
    {
        // A failed test may leave an answer waiting: it must not answer the next test's dialog.
        for (QTimer *t : qApp->findChildren<QTimer *>(QStringLiteral("modalAnswer"), Qt::FindDirectChildrenOnly))
            delete t;
    }

    void cleanupTestCase()
    {
        DesktopNotifier::setHook({});
        setConfirmFunction({});
        delete window;
        h.reset();
    }

    void agentEditsAreNeverLostSilently()
    {
        const QString alpha = h->createAgent(QStringLiteral("Alpha")).value(QStringLiteral("id")).toString();
        const QString beta = h->createAgent(QStringLiteral("Beta")).value(QStringLiteral("id")).toString();
        window->showArea(MainWindow::Agents);
        auto *list = find<QListWidget>(QStringLiteral("agentList"));
        auto *name = find<QLineEdit>(QStringLiteral("agentName"));
        auto *system = find<QPlainTextEdit>(QStringLiteral("agentSystem"));
        auto *marker = find<QLabel>(QStringLiteral("agentUnsaved"));
        QVERIFY(list && name && system && marker);
        AgentsPage *page = window->agentsPage();
        QTRY_VERIFY_WITH_TIMEOUT(rowWithId(list, alpha) >= 0 && rowWithId(list, beta) >= 0, 10000);

        list->setCurrentRow(rowWithId(list, alpha));
        QTRY_COMPARE_WITH_TIMEOUT(page->currentAgentId(), alpha, 10000);
        QTRY_COMPARE(name->text(), QStringLiteral("Alpha"));
        QVERIFY(!marker->isVisible());
        QVERIFY(!window->isWindowModified());

        // An edit shows everywhere: the marker, "* " before the list item, the window's "*".
        name->setText(QStringLiteral("Alpha two"));
        QVERIFY(marker->isVisible());
        QCOMPARE(list->item(rowWithId(list, alpha))->text().left(2), QStringLiteral("* "));
        QVERIFY(window->isWindowModified());
        // Typed back: nothing is unsaved.
        name->setText(QStringLiteral("Alpha"));
        QVERIFY(!marker->isVisible());
        QVERIFY(!list->item(rowWithId(list, alpha))->text().startsWith(QStringLiteral("* ")));
        name->setText(QStringLiteral("Alpha two"));

        // Opening another agent asks; Cancel keeps the edit and puts the list back.
        QString asked;
        answerNextBox(QMessageBox::Cancel, &asked);
        list->setCurrentRow(rowWithId(list, beta));
        QTRY_VERIFY(!asked.isEmpty());
        QVERIFY2(asked.startsWith(QStringLiteral("unsavedChangesDialog|")) && asked.contains(QStringLiteral("Alpha")),
                 qPrintable(asked));
        QTRY_COMPARE(list->currentRow(), rowWithId(list, alpha));
        QCOMPARE(page->currentAgentId(), alpha);
        QCOMPARE(name->text(), QStringLiteral("Alpha two"));
        QVERIFY(marker->isVisible());

        // Discard: the other agent opens, the edit is gone (not stored).
        answerNextBox(QMessageBox::Discard);
        list->setCurrentRow(rowWithId(list, beta));
        QTRY_COMPARE_WITH_TIMEOUT(page->currentAgentId(), beta, 10000);
        QTRY_COMPARE(name->text(), QStringLiteral("Beta"));
        QVERIFY(!marker->isVisible());
        auto stored = h->run<QJsonObject>([alpha](Backend &b) { return b.agents().retrieve(alpha); });
        QVERIFY(stored);
        QCOMPARE(stored->value(QStringLiteral("name")).toString(), QStringLiteral("Alpha"));
        QCOMPARE(stored->value(QStringLiteral("version")).toInt(), 1);

        // Ctrl+S saves (a new version), and the editor is clean again.
        system->setFocus();
        system->setPlainText(QStringLiteral("Be brief."));
        QVERIFY(marker->isVisible());
        press(system, Qt::Key_S, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(page->currentVersion(), 2, 10000);
        QTRY_VERIFY(!marker->isVisible());
        QVERIFY(!window->isWindowModified());

        // Save from the question: stored, then the other agent opens.
        system->setPlainText(QStringLiteral("Be brief and exact."));
        answerNextBox(QMessageBox::Save);
        list->setCurrentRow(rowWithId(list, alpha));
        QTRY_COMPARE_WITH_TIMEOUT(page->currentAgentId(), alpha, 10000);
        QTRY_COMPARE(name->text(), QStringLiteral("Alpha"));
        stored = h->run<QJsonObject>([beta](Backend &b) { return b.agents().retrieve(beta); });
        QCOMPARE(stored->value(QStringLiteral("system")).toString(), QStringLiteral("Be brief and exact."));
        QCOMPARE(stored->value(QStringLiteral("version")).toInt(), 3);

        // "New agent" asks too (Cancel: stays).
        name->setText(QStringLiteral("Alpha edited"));
        answerNextBox(QMessageBox::Cancel);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newAgentButton")), Qt::LeftButton);
        QCOMPARE(page->currentAgentId(), alpha);
        QCOMPARE(name->text(), QStringLiteral("Alpha edited"));
        answerNextBox(QMessageBox::Discard);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newAgentButton")), Qt::LeftButton);
        QTRY_VERIFY(page->currentAgentId().isEmpty());
        QVERIFY(!marker->isVisible());
    }

    void designerAndNewSessionDialogFollowNewVersions()
    {
        window->showArea(MainWindow::Agents);
        const QString id = h->createAgent(QStringLiteral("Versioned")).value(QStringLiteral("id")).toString();
        auto *list = find<QListWidget>(QStringLiteral("agentList"));
        auto *system = find<QPlainTextEdit>(QStringLiteral("agentSystem"));
        AgentsPage *page = window->agentsPage();
        QTRY_VERIFY_WITH_TIMEOUT(rowWithId(list, id) >= 0, 10000);
        list->setCurrentRow(rowWithId(list, id));
        QTRY_COMPARE_WITH_TIMEOUT(page->currentAgentId(), id, 10000);
        QTRY_COMPARE(page->currentVersion(), 1);

        // Saved in the designer (v2), then Ctrl+N: the dialog pre-selects the agent at v2.
        system->setPlainText(QStringLiteral("Version two."));
        system->setFocus();
        press(system, Qt::Key_S, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(page->currentVersion(), 2, 10000);

        // A version saved elsewhere (the API) while the designer shows this agent: it follows.
        QVERIFY(h->run<QJsonObject>([id](Backend &b) {
            return b.agents().update(id, QJsonObject{{QStringLiteral("version"), 2},
                                                     {QStringLiteral("system"), QStringLiteral("Version three.")}});
        }));
        QTRY_COMPARE_WITH_TIMEOUT(page->currentVersion(), 3, 10000);
        QTRY_COMPARE(system->toPlainText(), QStringLiteral("Version three."));

        QString created;
        int offered = 0, followed = 0;
        onNextModal([&](QWidget *w) {
            auto *dialog = qobject_cast<NewSessionDialog *>(w);
            if (!dialog) {
                w->close();
                return;
            }
            auto *agents = dialog->findChild<QComboBox *>(QStringLiteral("sessionAgent"));
            auto *version = dialog->findChild<QSpinBox *>(QStringLiteral("sessionAgentVersion"));
            auto *envs = dialog->findChild<QComboBox *>(QStringLiteral("sessionEnvironment"));
            if (!QTest::qWaitFor([&] { return agents->currentData().toString() == id && envs->count() > 0; }, 10000)) {
                dialog->reject();
                return;
            }
            offered = version->value();
            // v4 saved while the dialog is open: offered at once.
            h->bridge.call<QJsonObject>(
                dialog,
                [id](Backend &b) {
                    return b.agents().update(id, QJsonObject{{QStringLiteral("version"), 3},
                                                             {QStringLiteral("system"), QStringLiteral("Version four.")}});
                },
                [](Result<QJsonObject>) {});
            (void)QTest::qWaitFor([&] { return version->value() == 4; }, 10000);
            followed = version->value();
            QTest::mouseClick(dialog->findChild<QPushButton *>(QStringLiteral("startSession")), Qt::LeftButton);
            (void)QTest::qWaitFor([&] { return !dialog->isVisible(); }, 10000);
            created = dialog->createdSessionId();
        });
        press(system, Qt::Key_N, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(!created.isEmpty(), 20000);
        QCOMPARE(offered, 3);
        QCOMPARE(followed, 4);
        const auto session = h->run<QJsonObject>([created](Backend &b) { return b.sessions().retrieve(created); });
        QVERIFY(session);
        QCOMPARE(session->value(QStringLiteral("agent")).toObject().value(QStringLiteral("version")).toInt(), 4);
        // Ctrl+N went to the Sessions area, which opened the new session.
        QTRY_COMPARE(window->sessionsPage()->sessionView()->sessionId(), created);
    }

    void environmentAndCredentialEditorsAsk()
    {
        window->showArea(MainWindow::Environments);
        auto *envList = find<QListWidget>(QStringLiteral("environmentList"));
        auto *envName = find<QLineEdit>(QStringLiteral("environmentName"));
        auto *envMarker = find<QLabel>(QStringLiteral("environmentUnsaved"));
        QVERIFY(envList && envName && envMarker);
        QTRY_VERIFY_WITH_TIMEOUT(rowWithId(envList, env) >= 0, 10000);
        envList->setCurrentRow(rowWithId(envList, env));
        QTRY_COMPARE_WITH_TIMEOUT(envName->text(), QStringLiteral("steering"), 10000);
        envName->setText(QStringLiteral("steering renamed"));
        QVERIFY(envMarker->isVisible());
        QCOMPARE(envList->item(rowWithId(envList, env))->text(), QStringLiteral("* steering"));
        envName->setFocus();
        press(envName, Qt::Key_S, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(!envMarker->isVisible(), 10000);
        QTRY_COMPARE(envList->item(rowWithId(envList, env))->text(), QStringLiteral("steering renamed"));
        const auto stored = h->run<QJsonObject>([id = env](Backend &b) { return b.environments().retrieve(id); });
        QCOMPARE(stored->value(QStringLiteral("name")).toString(), QStringLiteral("steering renamed"));
        // New with an edit: asks (Discard → a blank form).
        envName->setText(QStringLiteral("not kept"));
        answerNextBox(QMessageBox::Discard);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newEnvironmentButton")), Qt::LeftButton);
        QTRY_COMPARE(envName->text(), QString());
        QVERIFY(!envMarker->isVisible());

        // The credential form of a vault.
        const auto vault = h->run<QJsonObject>([](Backend &b) {
            return b.vaults().create(QJsonObject{{QStringLiteral("display_name"), QStringLiteral("keys")}});
        });
        QVERIFY(vault);
        window->showArea(MainWindow::Vaults);
        auto *vaults = find<QListWidget>(QStringLiteral("vaultList"));
        auto *credName = find<QLineEdit>(QStringLiteral("credentialName"));
        auto *credMarker = find<QLabel>(QStringLiteral("credentialUnsaved"));
        QVERIFY(vaults && credName && credMarker);
        const QString vaultId = vault->value(QStringLiteral("id")).toString();
        QTRY_VERIFY_WITH_TIMEOUT(rowWithId(vaults, vaultId) >= 0, 10000);
        vaults->setCurrentRow(rowWithId(vaults, vaultId));
        credName->setText(QStringLiteral("GitHub token"));
        QVERIFY(credMarker->isVisible());
        QVERIFY(window->isWindowModified());
        QString asked;
        answerNextBox(QMessageBox::Cancel, &asked);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newCredential")), Qt::LeftButton);
        QVERIFY2(asked.contains(QStringLiteral("credential")), qPrintable(asked));
        QCOMPARE(credName->text(), QStringLiteral("GitHub token"));
        answerNextBox(QMessageBox::Discard);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newCredential")), Qt::LeftButton);
        QTRY_COMPARE(credName->text(), QString());
        QVERIFY(!credMarker->isVisible());
        QVERIFY(!window->isWindowModified());
    }

    void needsYouIsShownFilteredCountedAndNotified()
    {
        const QString agent = h->createAgent(QStringLiteral("Watcher")).value(QStringLiteral("id")).toString();
        const QString waiting = createSession(agent, QStringLiteral("waits for me"));
        const QString other = createSession(agent, QStringLiteral("just idle"));
        QVERIFY(!waiting.isEmpty() && !other.isEmpty());
        window->showArea(MainWindow::Sessions);
        QTRY_COMPARE_WITH_TIMEOUT(sessionStatusInList(waiting), QStringLiteral("idle"), 10000);

        // The window is not active (another window is): the notification comes.
        QWidget elsewhere;
        elsewhere.resize(200, 100);
        elsewhere.show();
        elsewhere.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&elsewhere));
        QVERIFY(!window->isActiveWindow());
        notifications.clear();
        QVERIFY(askForConfirmation(waiting, ids::make(u"sevt"), QStringLiteral("bash")));
        QTRY_COMPARE_WITH_TIMEOUT(sessionStatusInList(waiting), QStringLiteral("needs you"), 10000);
        QCOMPARE(sessionStatusInList(other), QStringLiteral("idle"));
        QTRY_COMPARE(notifications.size(), 1);
        QVERIFY2(notifications.first().contains(QStringLiteral("Vivarium")) && notifications.first().contains(QStringLiteral("bash"))
                     && notifications.first().contains(QStringLiteral("waits for me")),
                 qPrintable(notifications.first()));
        QVERIFY2(window->windowTitle().contains(QStringLiteral("1 session(s) need you")), qPrintable(window->windowTitle()));

        // Filtered: "needs you" shows only it; "idle" no longer shows it.
        auto *filter = find<QComboBox>(QStringLiteral("statusFilter"));
        auto *table = find<QTableView>(QStringLiteral("sessionList"));
        filter->setCurrentIndex(filter->findData(QStringLiteral("needs_you")));
        QCOMPARE(table->model()->rowCount(), 1);
        QCOMPARE(table->model()->index(0, 0).data().toString(), QStringLiteral("waits for me"));
        filter->setCurrentIndex(filter->findData(QStringLiteral("idle")));
        for (int row = 0; row < table->model()->rowCount(); ++row)
            QVERIFY(table->model()->index(row, 0).data().toString() != QStringLiteral("waits for me"));
        filter->setCurrentIndex(0);

        // With the window active, no notification.
        activate();
        const QString otherCall = ids::make(u"sevt"); // the log keeps only well-formed ids
        QVERIFY(askForConfirmation(other, otherCall, QStringLiteral("write")));
        QTRY_COMPARE_WITH_TIMEOUT(sessionStatusInList(other), QStringLiteral("needs you"), 10000);
        QTRY_VERIFY(window->windowTitle().contains(QStringLiteral("2 session(s) need you")));
        QTest::qWait(100);
        QCOMPARE(notifications.size(), 1);

        // Answered (as from a script): idle again, the count drops.
        QVERIFY(h->append(other, {QJsonObject{{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                                              {QStringLiteral("tool_use_id"), otherCall},
                                              {QStringLiteral("result"), QStringLiteral("deny")}},
                                  ev::idle()}));
        QTRY_COMPARE_WITH_TIMEOUT(sessionStatusInList(other), QStringLiteral("idle"), 10000);
        QTRY_VERIFY(window->windowTitle().contains(QStringLiteral("1 session(s) need you")));

        // A fresh window (a restart) reads the waiting state from the log.
        MainWindow second(h->bridge);
        QTRY_VERIFY_WITH_TIMEOUT(second.windowTitle().contains(QStringLiteral("1 session(s) need you")), 10000);
    }

    void keyboardSteersTheSession()
    {
        activate();
        const QString agent = h->createAgent(QStringLiteral("Keys")).value(QStringLiteral("id")).toString();
        window->showArea(MainWindow::Sessions);
        SessionsPage *page = window->sessionsPage();
        SessionView *view = page->sessionView();
        auto *composer = view->findChild<QPlainTextEdit *>(QStringLiteral("composer"));
        QVERIFY(composer);
        // Each step in a session of its own: the runtime's answer to one cannot race another.
        auto open = [&](const QString &title) {
            const QString id = createSession(agent, title);
            if (!QTest::qWaitFor([&] { return !page->titleOf(id).isEmpty(); }, 10000))
                return QString();
            page->openSession(id);
            if (!QTest::qWaitFor([&] { return view->session().value(QStringLiteral("id")).toString() == id; }, 10000))
                return QString();
            composer->setFocus();
            return id;
        };
        auto confirmationOf = [&](const QString &session, const QString &toolUseId) {
            for (const QJsonObject &e : h->eventsOf(session))
                if (e.value(QStringLiteral("type")).toString() == u"user.tool_confirmation"
                    && e.value(QStringLiteral("tool_use_id")).toString() == toolUseId)
                    return e.value(QStringLiteral("result")).toString();
            return QString();
        };

        // Ctrl+Enter sends.
        const QString sent = open(QStringLiteral("keys send"));
        QVERIFY(!sent.isEmpty());
        composer->setPlainText(QStringLiteral("hello by keyboard"));
        press(composer, Qt::Key_Return, Qt::ControlModifier);
        QTRY_VERIFY_WITH_TIMEOUT(loggedTypes(sent).contains(QStringLiteral("user.message")), 10000);
        QVERIFY(composer->toPlainText().isEmpty());

        // Ctrl+Shift+A approves the waiting call.
        const QString approved = open(QStringLiteral("keys approve"));
        const QString approveId = ids::make(u"sevt");
        QVERIFY(askForConfirmation(approved, approveId, QStringLiteral("bash")));
        QTRY_VERIFY_WITH_TIMEOUT(view->findChild<QPushButton *>(QStringLiteral("approve_") + approveId), 10000);
        press(composer, Qt::Key_A, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE_WITH_TIMEOUT(confirmationOf(approved, approveId), QStringLiteral("allow"), 10000);

        // Ctrl+Shift+D denies it, with the message typed in its row.
        const QString denied = open(QStringLiteral("keys deny"));
        const QString denyId = ids::make(u"sevt");
        QVERIFY(askForConfirmation(denied, denyId, QStringLiteral("write")));
        QTRY_VERIFY_WITH_TIMEOUT(view->findChild<QPushButton *>(QStringLiteral("deny_") + denyId), 10000);
        view->findChild<QLineEdit *>(QStringLiteral("denyMessage_") + denyId)->setText(QStringLiteral("not now"));
        composer->setFocus();
        press(composer, Qt::Key_D, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE_WITH_TIMEOUT(confirmationOf(denied, denyId), QStringLiteral("deny"), 10000);

        // Esc interrupts while the agent runs.
        const QString running = open(QStringLiteral("keys interrupt"));
        QVERIFY(h->append(running, {ev::status(QStringLiteral("running"))}));
        QTRY_VERIFY_WITH_TIMEOUT(view->findChild<QPushButton *>(QStringLiteral("interruptButton"))->isEnabled(), 10000);
        composer->setFocus();
        press(composer, Qt::Key_Escape);
        QTRY_VERIFY_WITH_TIMEOUT(loggedTypes(running).contains(QStringLiteral("user.interrupt")), 10000);

        // Ctrl+J: the next session that needs you (the one left waiting above).
        QVERIFY(window->sessionsPage()->decisions()->count() >= 1);
        const QString before = view->sessionId();
        press(composer, Qt::Key_J, Qt::ControlModifier);
        QTRY_VERIFY(view->sessionId() != before);
        QVERIFY(window->sessionsPage()->decisions()->needsYou(view->sessionId()));

        // Ctrl+Shift+N: a new agent in the designer.
        press(composer, Qt::Key_N, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE(find<QWidget>(QStringLiteral("agentsPage"))->isVisible(), true);
        QVERIFY(window->agentsPage()->currentAgentId().isEmpty());

        // F1: the shortcuts dialog lists every one of them with its keys.
        QStringList rows;
        onNextModal([&](QWidget *w) {
            if (auto *table = w->findChild<QTableWidget *>(QStringLiteral("shortcutsTable")))
                for (int r = 0; r < table->rowCount(); ++r)
                    rows << table->item(r, 0)->text() + QStringLiteral(" = ") + table->item(r, 1)->text();
            w->close();
        });
        press(window, Qt::Key_F1);
        QTRY_VERIFY(!rows.isEmpty());
        const QString all = rows.join(QLatin1Char('\n'));
        for (const QString &expected :
             {QStringLiteral("New agent = Ctrl+Shift+N"), QStringLiteral("New session = Ctrl+N"),
              QStringLiteral("Save = Ctrl+S"), QStringLiteral("Send message = Ctrl+Return"),
              QStringLiteral("Interrupt the agent = Esc"), QStringLiteral("Approve the waiting tool call = Ctrl+Shift+A"),
              QStringLiteral("Deny the waiting tool call = Ctrl+Shift+D"),
              QStringLiteral("Next session that needs you = Ctrl+J"), QStringLiteral("Find in transcript = Ctrl+F"),
              QStringLiteral("Rename session = F2"), QStringLiteral("Quit = Ctrl+Q")})
            QVERIFY2(all.contains(expected), qPrintable(all));
    }

    void sessionsAreRenamedArchivedAndDeleted()
    {
        activate();
        const QString agent = h->createAgent(QStringLiteral("Manager")).value(QStringLiteral("id")).toString();
        const QString session = createSession(agent);
        QVERIFY(!session.isEmpty());
        window->showArea(MainWindow::Sessions);
        SessionsPage *page = window->sessionsPage();
        SessionView *view = page->sessionView();
        // Untitled: the agent's name and the start in local time, never the id.
        const auto doc = h->run<QJsonObject>([session](Backend &b) { return b.sessions().retrieve(session); });
        const QString started = QLocale().toString(
            QDateTime::fromString(doc->value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs).toLocalTime(),
            QLocale::ShortFormat);
        QVERIFY(!started.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(session), QStringLiteral("Manager · ") + started, 10000);
        page->openSession(session);
        auto *title = view->findChild<QLabel *>(QStringLiteral("sessionTitle"));
        QTRY_COMPARE_WITH_TIMEOUT(title->text(), QStringLiteral("Manager · ") + started, 10000);
        QVERIFY(!title->text().contains(session));

        // Rename (F2) through the real input dialog.
        onNextModal([](QWidget *w) {
            auto *dialog = qobject_cast<QInputDialog *>(w);
            if (!dialog) {
                w->close();
                return;
            }
            dialog->setTextValue(QStringLiteral("Quarterly report"));
            dialog->accept();
        });
        view->findChild<QPlainTextEdit *>(QStringLiteral("composer"))->setFocus();
        press(view->findChild<QPlainTextEdit *>(QStringLiteral("composer")), Qt::Key_F2);
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(session), QStringLiteral("Quarterly report"), 10000);
        QTRY_COMPARE(title->text(), QStringLiteral("Quarterly report"));

        // …and from the list's context menu (the real QMenu, then the real input dialog).
        auto *table = find<QTableView>(QStringLiteral("sessionList"));
        QModelIndex at;
        for (int row = 0; row < table->model()->rowCount(); ++row)
            if (table->model()->index(row, 0).data().toString() == QStringLiteral("Quarterly report"))
                at = table->model()->index(row, 0);
        QVERIFY(at.isValid());
        table->scrollTo(at);
        QStringList menuItems;
        auto *popupTimer = new QTimer(this);
        connect(popupTimer, &QTimer::timeout, this, [&, popupTimer] {
            auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
            if (!menu)
                return;
            popupTimer->deleteLater();
            popupTimer->stop();
            for (QAction *a : menu->actions())
                menuItems << a->text();
            onNextModal([](QWidget *w) {
                if (auto *dialog = qobject_cast<QInputDialog *>(w)) {
                    QCOMPARE_EQ(dialog->textValue(), QStringLiteral("Quarterly report")); // the stored title to edit
                    dialog->setTextValue(QStringLiteral("Q3 report"));
                    dialog->accept();
                } else {
                    w->close();
                }
            });
            menu->actions().at(0)->trigger(); // Rename…
            menu->close();
        });
        popupTimer->start(20);
        Q_EMIT table->customContextMenuRequested(table->visualRect(at).center());
        QCOMPARE(menuItems, (QStringList{QStringLiteral("Rename…"), QStringLiteral("Archive…"), QStringLiteral("Delete…")}));
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(session), QStringLiteral("Q3 report"), 10000);
        QTRY_COMPARE(title->text(), QStringLiteral("Q3 report"));

        // Archive: the confirmation states what follows; the session leaves the list.
        QString confirmText;
        setConfirmFunction([&](QWidget *, const QString &, const QString &text) {
            confirmText = text;
            return true;
        });
        view->findChild<QAction *>(QStringLiteral("actionArchiveSession"))->trigger();
        QVERIFY2(confirmText.contains(QStringLiteral("Q3 report")) && confirmText.contains(QStringLiteral("stops"))
                     && confirmText.contains(QStringLiteral("never run")) && confirmText.contains(QStringLiteral("cannot be undone")),
                 qPrintable(confirmText));
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(session), QStringLiteral("<not listed>"), 10000);
        auto archived = h->run<QJsonObject>([session](Backend &b) { return b.sessions().retrieve(session); });
        QVERIFY(archived && !archived->value(QStringLiteral("archived_at")).isNull());

        // Delete: declining keeps it; accepting deletes it (transcript included).
        const QString doomed = createSession(agent, QStringLiteral("to delete"));
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(doomed), QStringLiteral("to delete"), 10000);
        page->openSession(doomed);
        QTRY_COMPARE_WITH_TIMEOUT(view->sessionId(), doomed, 10000);
        setConfirmFunction([&](QWidget *, const QString &, const QString &text) {
            confirmText = text;
            return false;
        });
        view->findChild<QAction *>(QStringLiteral("actionDeleteSession"))->trigger();
        QVERIFY2(confirmText.contains(QStringLiteral("transcript")) && confirmText.contains(QStringLiteral("cannot be undone")),
                 qPrintable(confirmText));
        QTest::qWait(200);
        QVERIFY(h->run<QJsonObject>([doomed](Backend &b) { return b.sessions().retrieve(doomed); }));
        setConfirmFunction([](QWidget *, const QString &, const QString &) { return true; });
        view->findChild<QAction *>(QStringLiteral("actionDeleteSession"))->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(sessionTitleInList(doomed), QStringLiteral("<not listed>"), 10000);
        QVERIFY(!h->run<QJsonObject>([doomed](Backend &b) { return b.sessions().retrieve(doomed); }));
        setConfirmFunction({});
    }

    void findAndExportTheTranscript()
    {
        activate();
        const QString agent = h->createAgent(QStringLiteral("Finder")).value(QStringLiteral("id")).toString();
        const QString session = createSession(agent, QStringLiteral("find me"));
        const QString call = ids::make(u"sevt");
        QVERIFY(h->append(session, {ev::userMessage(QStringLiteral("Where is the needle?")),
                                    ev::status(QStringLiteral("running")),
                                    ev::toolUse(call, QStringLiteral("bash"), QJsonObject{{QStringLiteral("command"), QStringLiteral("grep -r needle")}}),
                                    ev::toolResult(call, QStringLiteral("a.txt: hay\nb.txt: needle\nc.txt: hay")),
                                    ev::agentMessage(QStringLiteral("The needle is in b.txt."))}));
        window->showArea(MainWindow::Sessions);
        SessionsPage *page = window->sessionsPage();
        SessionView *view = page->sessionView();
        QTRY_VERIFY_WITH_TIMEOUT(!page->titleOf(session).isEmpty(), 10000);
        page->openSession(session);
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->rowCount() >= 4, 10000);
        auto *composer = view->findChild<QPlainTextEdit *>(QStringLiteral("composer"));
        auto *bar = view->findChild<QWidget *>(QStringLiteral("findBar"));
        auto *text = view->findChild<QLineEdit *>(QStringLiteral("findText"));
        auto *status = view->findChild<QLabel *>(QStringLiteral("findStatus"));
        QVERIFY(composer && bar && text && status);
        QVERIFY(!bar->isVisible());

        // Ctrl+F opens the bar with the focus in it; typing finds the first match.
        press(composer, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(bar->isVisible());
        QVERIFY(text->hasFocus());
        QTest::keyClicks(text, QStringLiteral("NEEDLE"));
        QCOMPARE(status->text(), QStringLiteral("1 of 3")); // the question, the tool call (input and output), the answer
        const int first = view->view()->currentIndex().row();
        QCOMPARE(view->model()->index(first, 0).data(TranscriptModel::BodyRole).toString(), QStringLiteral("Where is the needle?"));
        QTest::keyClick(text, Qt::Key_Return);
        QCOMPARE(status->text(), QStringLiteral("2 of 3"));
        QCOMPARE(view->view()->currentIndex().data(TranscriptModel::KindRole).toInt(), int(TranscriptModel::ToolCall));
        QTest::keyClick(text, Qt::Key_Return, Qt::ShiftModifier);
        QCOMPARE(status->text(), QStringLiteral("1 of 3"));
        QTest::keyClick(text, Qt::Key_Return, Qt::ShiftModifier); // wraps around
        QCOMPARE(status->text(), QStringLiteral("3 of 3"));
        QCOMPARE(view->view()->currentIndex().data(TranscriptModel::BodyRole).toString(), QStringLiteral("The needle is in b.txt."));
        // Esc closes the bar — and does not interrupt the running agent.
        QTRY_VERIFY(view->findChild<QPushButton *>(QStringLiteral("interruptButton"))->isEnabled());
        press(text, Qt::Key_Escape);
        QVERIFY(!bar->isVisible());
        QTest::qWait(200);
        QVERIFY(!loggedTypes(session).contains(QStringLiteral("user.interrupt")));

        // Export: Markdown (what the view shows, line breaks kept) and JSON (the raw events).
        QTemporaryDir dir;
        QStringList suggested;
        setSaveChooser([&](QWidget *, const QString &name, const QString &) {
            suggested << name;
            return dir.filePath(QFileInfo(name).fileName());
        });
        view->findChild<QAction *>(QStringLiteral("actionExportMarkdown"))->trigger();
        QFile md(dir.filePath(QStringLiteral("find-me.md")));
        QTRY_VERIFY(md.exists());
        QVERIFY(md.open(QIODevice::ReadOnly));
        const QString markdown = QString::fromUtf8(md.readAll());
        for (const QString &part : {QStringLiteral("# find me\n"), QStringLiteral("## You"), QStringLiteral("Where is the needle?"),
                                    QStringLiteral("### Tool: bash"), QStringLiteral("```text\ncommand: grep -r needle\n"),
                                    QStringLiteral("a.txt: hay\nb.txt: needle\nc.txt: hay\n"),
                                    QStringLiteral("## Agent"), QStringLiteral("The needle is in b.txt.")})
            QVERIFY2(markdown.contains(part), qPrintable(part + QStringLiteral(" not in:\n") + markdown));
        QVERIFY(markdown.indexOf(QStringLiteral("Where is the needle?")) < markdown.indexOf(QStringLiteral("### Tool: bash")));

        view->findChild<QAction *>(QStringLiteral("actionExportJson"))->trigger();
        QFile json(dir.filePath(QStringLiteral("find-me.json")));
        QTRY_VERIFY_WITH_TIMEOUT(json.exists() && json.size() > 0, 10000);
        QVERIFY(json.open(QIODevice::ReadOnly));
        const QJsonObject exported = QJsonDocument::fromJson(json.readAll()).object();
        QCOMPARE(exported.value(QStringLiteral("session")).toObject().value(QStringLiteral("id")).toString(), session);
        const QJsonArray events = exported.value(QStringLiteral("events")).toArray();
        const QList<QJsonObject> logged = h->eventsOf(session);
        QCOMPARE(events.size(), logged.size());
        for (int i = 0; i < events.size(); ++i)
            QCOMPARE(events.at(i).toObject(), logged.at(i));
        setSaveChooser({});
    }

    void deniedAndFailedCallsLookDifferent()
    {
        activate();
        const QString agent = h->createAgent(QStringLiteral("Outcomes")).value(QStringLiteral("id")).toString();
        const QString session = createSession(agent, QStringLiteral("outcomes"));
        const QString ok = ids::make(u"sevt"), failed = ids::make(u"sevt"), denied = ids::make(u"sevt");
        const QJsonObject input{{QStringLiteral("command"), QStringLiteral("true")}};
        QVERIFY(h->append(session, {ev::toolUse(ok, QStringLiteral("bash"), input),
                                    ev::toolResult(ok, QStringLiteral("fine")),
                                    ev::toolUse(failed, QStringLiteral("bash"), input),
                                    ev::toolResult(failed, QStringLiteral("exit status 2"), true),
                                    ev::toolUse(denied, QStringLiteral("bash"), input, true),
                                    ev::idle({denied}),
                                    QJsonObject{{QStringLiteral("type"), QStringLiteral("user.tool_confirmation")},
                                                {QStringLiteral("tool_use_id"), denied},
                                                {QStringLiteral("result"), QStringLiteral("deny")}}}));
        window->showArea(MainWindow::Sessions);
        SessionsPage *page = window->sessionsPage();
        SessionView *view = page->sessionView();
        QTRY_VERIFY_WITH_TIMEOUT(!page->titleOf(session).isEmpty(), 10000);
        page->openSession(session);
        QTRY_VERIFY_WITH_TIMEOUT(view->model()->rowOfEvent(denied) >= 0, 10000);
        TranscriptModel *model = view->model();
        auto outcome = [&](const QString &id) {
            return model->index(model->rowOfEvent(id), 0).data(TranscriptModel::OutcomeRole).toString();
        };
        QCOMPARE(outcome(ok), QStringLiteral("done"));
        QCOMPARE(outcome(failed), QStringLiteral("failed"));
        QCOMPARE(outcome(denied), QStringLiteral("denied"));

        // As painted: each card's own fill (a point inside its top-right corner, above the text).
        TranscriptView *transcript = view->view();
        transcript->scrollToTop();
        QTest::qWait(50);
        const QImage shot = transcript->viewport()->grab().toImage();
        auto fill = [&](const QString &id) {
            const QRect r = transcript->visualRect(model->index(model->rowOfEvent(id), 0));
            return QColor(shot.pixel(r.right() - 10, r.top() + 7));
        };
        const QColor okColor = fill(ok), failedColor = fill(failed), deniedColor = fill(denied);
        QVERIFY2(okColor != failedColor && okColor != deniedColor && failedColor != deniedColor,
                 qPrintable(okColor.name() + u' ' + failedColor.name() + u' ' + deniedColor.name()));
        QVERIFY2(failedColor.red() > failedColor.green(), qPrintable(failedColor.name())); // reddish
    }

    // Last: it closes the window.
    void closingAsksAboutUnsavedChanges()
    {
        activate();
        window->showArea(MainWindow::Environments);
        QTest::mouseClick(find<QPushButton>(QStringLiteral("newEnvironmentButton")), Qt::LeftButton);
        auto *name = find<QLineEdit>(QStringLiteral("environmentName"));
        name->setText(QStringLiteral("made before closing"));
        window->showArea(MainWindow::Agents);

        // Cancel: the window stays, the edit too (and its editor is shown).
        answerNextBox(QMessageBox::Cancel);
        QVERIFY(!window->close());
        QVERIFY(window->isVisible());
        QCOMPARE(name->text(), QStringLiteral("made before closing"));
        QVERIFY(find<QWidget>(QStringLiteral("environmentsPage"))->isVisible());

        // Quit (Ctrl+Q) → Save: stored, then the window closes.
        QString asked;
        answerNextBox(QMessageBox::Save, &asked);
        press(window, Qt::Key_Q, Qt::ControlModifier);
        QTRY_VERIFY(!asked.isEmpty());
        QVERIFY2(asked.contains(QStringLiteral("The new environment")), qPrintable(asked));
        QTRY_VERIFY_WITH_TIMEOUT(!window->isVisible(), 10000);
        const auto envs = h->run<QJsonArray>([](Backend &b) {
            return BackendBridge::allPages([&](const PageRequest &r) { return b.environments().list(r, false); });
        });
        QVERIFY(envs);
        QStringList names;
        for (const auto &v : *envs)
            names << v.toObject().value(QStringLiteral("name")).toString();
        QVERIFY2(names.contains(QStringLiteral("made before closing")), qPrintable(names.join(u',')));
    }
};

QTEST_MAIN(TestGuiSteering)
#include "tst_gui_steering.moc"
