// The raw sandbox API through a real socket, against real VMs (TCG when there is no KVM).
#include "ApiHarness.h"
#include "sandbox/SandboxManager.h"
#include "GuestImageWait.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

using namespace viv;
using namespace viv::test;

class TestSandboxApi : public QObject
{
    Q_OBJECT
private:
    std::unique_ptr<ApiHarness> h;
    QString id;

    HttpResult exec(const QJsonObject &body) { return h->post(QStringLiteral("/v1/sandboxes/%1/processes").arg(id), body); }

    HttpResult upload(const QString &sandbox, const QByteArray &path, const QByteArray &content)
    {
        const QByteArray boundary = "vivariumtestboundary42";
        QByteArray body;
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n" + path + "\r\n";
        body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n";
        body += "--" + boundary + "--\r\n";
        return h->request("POST", QStringLiteral("/v1/sandboxes/%1/files").arg(sandbox), body,
                          {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    }

private Q_SLOTS:
    void initTestCase()
    {
        h = std::make_unique<ApiHarness>();
        QVERIFY(h->backend);
        // The image build (first run after a recipe change) takes minutes; later runs hit the cache.
        const QString error = waitForGuestImage(h->backend->sandboxes().image());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void createValidates()
    {
        QCOMPARE(h->post(QStringLiteral("/v1/sandboxes"), {{QStringLiteral("templateID"), QStringLiteral("nope")}}).status, 400);
        QCOMPARE(h->post(QStringLiteral("/v1/sandboxes"), {{QStringLiteral("bogus"), 1}}).status, 400);
        QCOMPARE(h->post(QStringLiteral("/v1/sandboxes"), {{QStringLiteral("timeout"), QStringLiteral("x")}}).status, 400);
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes")).json().value(QStringLiteral("data")).toArray().size(), 0);
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes/sbx_missing")).status, 404);
    }

    void createAndRetrieve()
    {
        auto r = h->post(QStringLiteral("/v1/sandboxes"), {{QStringLiteral("templateID"), QStringLiteral("base")},
                                                           {QStringLiteral("timeout"), 600}});
        QCOMPARE(r.status, 200);
        const QJsonObject s = r.json();
        id = s.value(QStringLiteral("sandboxID")).toString();
        QVERIFY(id.startsWith(QLatin1String("sbx_")));
        QCOMPARE(s.value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        QCOMPARE(s.value(QStringLiteral("templateID")).toString(), QStringLiteral("base"));
        QVERIFY(!s.value(QStringLiteral("endAt")).isNull());
        qInfo("cold boot to agent ready: %d ms", s.value(QStringLiteral("bootMs")).toInt());
        auto g = h->get(QStringLiteral("/v1/sandboxes/") + id);
        QCOMPARE(g.status, 200);
        QCOMPARE(g.json().value(QStringLiteral("sandboxID")).toString(), id);
        const QJsonArray list = h->get(QStringLiteral("/v1/sandboxes")).json().value(QStringLiteral("data")).toArray();
        QCOMPARE(list.size(), 1);
    }

    void processes()
    {
        auto r = exec({{QStringLiteral("cmd"), QStringLiteral("bash")},
                       {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"),
                                                           QStringLiteral("read x; echo \"in=$x env=$FOO cwd=$(pwd)\"; echo oops >&2; exit 3")}},
                       {QStringLiteral("env"), QJsonObject{{QStringLiteral("FOO"), QStringLiteral("bar")}}},
                       {QStringLiteral("cwd"), QStringLiteral("/tmp")},
                       {QStringLiteral("stdin"), QStringLiteral("hello\n")}});
        QCOMPARE(r.status, 200);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("stdout")).toString(), QStringLiteral("in=hello env=bar cwd=/tmp\n"));
        QCOMPARE(o.value(QStringLiteral("stderr")).toString(), QStringLiteral("oops\n"));
        QCOMPARE(o.value(QStringLiteral("exitCode")).toInt(), 3);
        QCOMPARE(o.value(QStringLiteral("timedOut")).toBool(), false);

        // The default cwd is the persistent workspace, a separate disk.
        auto w = exec({{QStringLiteral("cmd"), QStringLiteral("sh")},
                       {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"), QStringLiteral("pwd; mountpoint -q /workspace && echo mounted")}}});
        QCOMPARE(w.json().value(QStringLiteral("stdout")).toString(), QStringLiteral("/workspace\nmounted\n"));

        auto t = exec({{QStringLiteral("cmd"), QStringLiteral("sleep")},
                       {QStringLiteral("args"), QJsonArray{QStringLiteral("30")}},
                       {QStringLiteral("timeout"), 0.5}});
        QCOMPARE(t.status, 200);
        QCOMPARE(t.json().value(QStringLiteral("timedOut")).toBool(), true);
        QVERIFY(t.json().value(QStringLiteral("exitCode")).isNull());

        auto missing = exec({{QStringLiteral("cmd"), QStringLiteral("/no/such/program")}});
        QCOMPARE(missing.status, 400);
        QCOMPARE(exec({{QStringLiteral("cmd"), QString()}}).status, 400);
        QCOMPARE(exec({{QStringLiteral("cmd"), QStringLiteral("true")}, {QStringLiteral("args"), QStringLiteral("x")}}).status, 400);
        QCOMPARE(exec({{QStringLiteral("cmd"), QStringLiteral("true")}, {QStringLiteral("extra"), 1}}).status, 400);
        QCOMPARE(h->post(QStringLiteral("/v1/sandboxes/sbx_missing/processes"), {{QStringLiteral("cmd"), QStringLiteral("true")}}).status, 404);
    }

    void processEndsWithItsClient()
    {
        // A client that disconnects while its process runs takes the process with it.
        auto running = [this] {
            return exec({{QStringLiteral("cmd"), QStringLiteral("pgrep")},
                         {QStringLiteral("args"), QJsonArray{QStringLiteral("-f"), QStringLiteral("^sleep 47.25$")}}})
                       .json().value(QStringLiteral("exitCode")).toInt(-1) == 0;
        };
        QVERIFY(!running());
        const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("sleep")},
                                                          {QStringLiteral("args"), QJsonArray{QStringLiteral("47.25")}}})
                                    .toJson(QJsonDocument::Compact);
        QTcpSocket client;
        const QUrl base = h->url(QString());
        client.connectToHost(base.host(), quint16(base.port()));
        QVERIFY(client.waitForConnected(5000));
        client.write("POST /v1/sandboxes/" + id.toLatin1() + "/processes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "x-api-key: " + QByteArray(ApiHarness::kKey) + "\r\nContent-Type: application/json\r\n"
                     "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(client.waitForBytesWritten(5000));
        QTRY_VERIFY_WITH_TIMEOUT(running(), 10000);
        client.abort();
        QTRY_VERIFY_WITH_TIMEOUT(!running(), 5000);
        // The sandbox carries on.
        QCOMPARE(exec({{QStringLiteral("cmd"), QStringLiteral("true")}}).json().value(QStringLiteral("exitCode")).toInt(-1), 0);
    }

    void files()
    {
        QByteArray blob;
        for (int i = 0; i < 70000; ++i)
            blob += char(i * 7);
        auto up = upload(id, "data/blob.bin", blob);
        QCOMPARE(up.status, 200);
        QCOMPARE(up.json().value(QStringLiteral("path")).toString(), QStringLiteral("/workspace/data/blob.bin"));
        QCOMPARE(up.json().value(QStringLiteral("size")).toInt(), blob.size());

        auto down = h->get(QStringLiteral("/v1/sandboxes/%1/files/content?path=data/blob.bin").arg(id));
        QCOMPARE(down.status, 200);
        QCOMPARE(down.body, blob);

        auto list = h->get(QStringLiteral("/v1/sandboxes/%1/files?path=/workspace/data").arg(id));
        QCOMPARE(list.status, 200);
        const QJsonArray entries = list.json().value(QStringLiteral("data")).toArray();
        QCOMPARE(entries.size(), 1);
        QCOMPARE(entries.at(0).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("blob.bin"));
        QCOMPARE(entries.at(0).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("file"));

        auto sum = exec({{QStringLiteral("cmd"), QStringLiteral("sh")},
                         {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"), QStringLiteral("wc -c < data/blob.bin")}}});
        QCOMPARE(sum.json().value(QStringLiteral("stdout")).toString().trimmed().toInt(), blob.size());

        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes/%1/files/content?path=nope.txt").arg(id)).status, 404);
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes/%1/files/content").arg(id)).status, 400);
        QCOMPARE(upload(id, "", "x").status, 400);
        QCOMPARE(h->request("POST", QStringLiteral("/v1/sandboxes/%1/files").arg(id), "x",
                            {{"Content-Type", "text/plain"}}).status, 400);
    }

    void pauseResume()
    {
        auto p = h->post(QStringLiteral("/v1/sandboxes/%1/pause").arg(id), {});
        QCOMPARE(p.status, 200);
        QCOMPARE(p.json().value(QStringLiteral("state")).toString(), QStringLiteral("paused"));
        QCOMPARE(exec({{QStringLiteral("cmd"), QStringLiteral("true")}}).status, 409);
        auto r = h->post(QStringLiteral("/v1/sandboxes/%1/resume").arg(id), {});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(QStringLiteral("state")).toString(), QStringLiteral("running"));
        auto cat = exec({{QStringLiteral("cmd"), QStringLiteral("wc")}, {QStringLiteral("args"), QJsonArray{QStringLiteral("-c"), QStringLiteral("data/blob.bin")}}});
        QCOMPARE(cat.status, 200);
        QVERIFY(cat.json().value(QStringLiteral("stdout")).toString().startsWith(QLatin1String("70000")));
    }

    void warmPoolClaim()
    {
        // The pool refilled after the first claim: the next sandbox comes from it.
        QTRY_VERIFY_WITH_TIMEOUT(h->backend->sandboxes().warmCount() >= 1, 180000);
        auto r = h->post(QStringLiteral("/v1/sandboxes"), {});
        QCOMPARE(r.status, 200);
        QVERIFY(r.json().value(QStringLiteral("fromWarmPool")).toBool());
        const QString second = r.json().value(QStringLiteral("sandboxID")).toString();
        // Sandboxes are isolated: the first one's file is not here.
        auto ls = h->post(QStringLiteral("/v1/sandboxes/%1/processes").arg(second),
                          {{QStringLiteral("cmd"), QStringLiteral("ls")}, {QStringLiteral("args"), QJsonArray{QStringLiteral("/workspace")}}});
        QCOMPARE(ls.json().value(QStringLiteral("stdout")).toString(), QStringLiteral("lost+found\n"));
        QCOMPARE(h->del(QStringLiteral("/v1/sandboxes/") + second).status, 200);
    }

    void vmDeathIsReported()
    {
        // Kill the VM behind the API's back (as if QEMU crashed): the sandbox turns dead.
        auto r = h->post(QStringLiteral("/v1/sandboxes"), {});
        QCOMPARE(r.status, 200);
        const QString victim = r.json().value(QStringLiteral("sandboxID")).toString();
        auto &m = h->backend->sandboxes();
        QVERIFY(m.libvirt().destroyDomainBlocking(m.domainName(victim)));
        QTRY_COMPARE_WITH_TIMEOUT(h->get(QStringLiteral("/v1/sandboxes/") + victim).json().value(QStringLiteral("state")).toString(),
                                  QStringLiteral("dead"), 10000);
        QCOMPARE(h->post(QStringLiteral("/v1/sandboxes/%1/processes").arg(victim), {{QStringLiteral("cmd"), QStringLiteral("true")}}).status, 409);
        QCOMPARE(h->del(QStringLiteral("/v1/sandboxes/") + victim).status, 200);
    }

    void deleteSandbox()
    {
        QCOMPARE(h->del(QStringLiteral("/v1/sandboxes/") + id).status, 200);
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes/") + id).status, 404);
        QCOMPARE(h->del(QStringLiteral("/v1/sandboxes/") + id).status, 404);
        QCOMPARE(h->get(QStringLiteral("/v1/sandboxes")).json().value(QStringLiteral("data")).toArray().size(), 0);
    }

    void cleanupTestCase() { h.reset(); }
};

QTEST_GUILESS_MAIN(TestSandboxApi)
#include "tst_sandbox_api.moc"
