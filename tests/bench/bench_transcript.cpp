// GUI benchmarks (figures printed, targets reported, not asserted):
//  1. open a 10,000-event session transcript: from openSession() until the history is in the
//     model and the view has painted it (target ≤ 300 ms);
//  2. the longest GUI event-loop stall while a session streams 100 events/s for 5 s, committed
//     on the backend thread as the runtime does (target ≤ 50 ms).
#include "../gui/GuiHarness.h"
#include "SessionView.h"
#include "TranscriptModel.h"
#include "TranscriptView.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

#include <atomic>
#include <memory>

#include <cstdio>

using namespace viv;

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    GuiHarness h;
    if (!h.waitReady()) {
        std::fprintf(stderr, "backend did not start\n");
        return 1;
    }
    const QString sid = h.createSession(QStringLiteral("bench"));
    // 10,000 events shaped like a long working session: messages, tool calls with outputs.
    QList<QJsonObject> batch;
    int made = 0;
    while (made < 10000) {
        const QString use = ids::make(u"sevt");
        batch << ev::agentMessage(QStringLiteral("Step %1: I will **inspect** the next file and then `grep` for the symbol.\n\n- one\n- two").arg(made))
              << ev::toolUse(use, QStringLiteral("bash"), {{QStringLiteral("command"), QStringLiteral("grep -rn symbol src/%1").arg(made)}})
              << ev::toolResult(use, QStringLiteral("src/a.cpp:12: symbol\nsrc/b.cpp:40: symbol\nsrc/c.cpp:7: symbol"))
              << ev::spanEnd(1200, 80);
        made += 4;
        if (batch.size() >= 1000) {
            h.append(sid, batch);
            batch.clear();
        }
    }
    if (!batch.isEmpty())
        h.append(sid, batch);

    SessionView view(h.bridge);
    view.resize(1100, 800);
    view.show();
    if (!QTest::qWaitForWindowExposed(&view)) {
        std::printf("bench_transcript: FAILED to run (the window was never exposed)\n");
        return 1;
    }
    QSignalSpy loaded(&view, &SessionView::transcriptLoaded);
    QElapsedTimer t;
    t.start();
    view.openSession(sid);
    loaded.wait(30000);
    const qint64 inModel = t.elapsed();
    view.view()->viewport()->repaint(); // layout + paint of the visible rows, synchronously
    const qint64 shown = t.elapsed();
    std::printf("bench_transcript: open %d events (%d rows): in model %lld ms, shown %lld ms (target <= 300 ms)\n",
                made, view.model()->rowCount(), inModel, shown);

    // Streaming: 100 events/s committed on the backend thread; a 5 ms timer on the GUI thread
    // measures the longest gap between its ticks.
    qint64 worst = 0;
    QElapsedTimer tick;
    tick.start();
    QTimer probe;
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        worst = std::max(worst, tick.restart());
    });
    // The producer runs on the backend thread (as the runtime does): a 10 ms timer there.
    auto streamedCount = std::make_shared<std::atomic<int>>(0);
    auto producer = std::make_shared<QPointer<QTimer>>();
    auto startProducer = [&] {
        (void)h.run<Ok>([sid, streamedCount, producer](Backend &b) -> Result<Ok> {
            auto *timer = new QTimer;
            timer->setInterval(10);
            QObject::connect(timer, &QTimer::timeout, timer, [&b, sid, streamedCount] {
                const int n = (*streamedCount)++;
                const QJsonObject e = n % 3 == 0 ? ev::agentMessage(QStringLiteral("live **%1**").arg(n)) : ev::thinking();
                (void)b.events().append(sid, {e});
            });
            timer->start();
            *producer = timer;
            return Ok{};
        });
    };
    auto stopProducer = [&] {
        (void)h.run<Ok>([producer](Backend &) -> Result<Ok> {
            delete producer->data();
            return Ok{};
        });
    };
    const int rowsBefore = view.model()->rowCount();
    tick.restart();
    probe.start();
    startProducer();
    QTest::qWait(5000);
    stopProducer();
    const int streamed = streamedCount->load();
    QTest::qWait(300);
    probe.stop();
    std::printf("bench_transcript: streaming %d events in 5 s (100/s): %d rows added, longest event-loop stall %lld ms (target <= 50 ms)\n",
                streamed, view.model()->rowCount() - rowsBefore, worst);
    return 0;
}
