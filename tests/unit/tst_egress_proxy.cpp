// The sandbox egress proxy on real loopback sockets: policy decisions, absolute-form HTTP,
// CONNECT tunnels, credential placeholder substitution, the guest multiplexing channel, and
// that no secret reaches the log. Every server here is one this test starts on 127.0.0.1;
// the `*.test` names are mapped to 127.0.0.1 by the proxy's resolver overrides.

#include "sandbox/EgressProxy.h"
#include "sandbox/NetworkPolicy.h"
#include "sandbox/ProxyChannel.h"

#include "LoopbackHttpServer.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLoggingCategory>
#include <QMutex>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QtEndian>

using namespace viv;
using namespace viv::test;

namespace {

QMutex g_logMutex;
QString g_log;
QtMessageHandler g_previous = nullptr;

void captureMessages(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    {
        QMutexLocker lock(&g_logMutex);
        g_log += msg + u'\n';
    }
    if (g_previous)
        g_previous(type, ctx, msg);
}

// Answers each request with 200 and the raw request it received as the body.
HttpResponse echoRequest(const HttpRequest &request)
{
    HttpResponse r;
    r.contentType = {};
    r.body = request.raw;
    return r;
}

// Sends `request` to the proxy and returns everything received until the proxy closes.
QByteArray exchange(quint16 proxyPort, const QByteArray &request)
{
    QTcpSocket s;
    QByteArray got;
    QEventLoop loop;
    QObject::connect(&s, &QTcpSocket::connected, &loop, [&] { s.write(request); });
    QObject::connect(&s, &QTcpSocket::readyRead, &loop, [&] { got += s.readAll(); });
    QObject::connect(&s, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
    QObject::connect(&s, &QTcpSocket::errorOccurred, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    s.connectToHost(QHostAddress::LocalHost, proxyPort);
    loop.exec();
    got += s.readAll();
    return got;
}

int statusOf(const QByteArray &response)
{
    if (!response.startsWith("HTTP/1.1 "))
        return -1;
    return response.mid(9, 3).toInt();
}

NetworkPolicy limited(const QStringList &hosts)
{
    auto p = NetworkPolicy::fromNetworkingJson(
        QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")},
                    {QStringLiteral("allowed_hosts"), QJsonArray::fromStringList(hosts)}});
    return *p;
}

QHash<QString, QHostAddress> testNames()
{
    const QHostAddress lo(QHostAddress::LocalHost);
    return {{QStringLiteral("allowed.test"), lo}, {QStringLiteral("denied.test"), lo},
            {QStringLiteral("other.test"), lo}, {QStringLiteral("api.allowed.test"), lo}};
}

QByteArray frame(quint32 id, quint8 type, const QByteArray &payload = {})
{
    char head[9];
    qToBigEndian<quint32>(id, head);
    head[4] = char(type);
    qToBigEndian<quint32>(quint32(payload.size()), head + 5);
    return QByteArray(head, 9) + payload;
}

} // namespace

class TestEgressProxy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QLoggingCategory::setFilterRules(QStringLiteral("vivarium.*=true"));
        g_previous = qInstallMessageHandler(captureMessages);
    }
    void cleanupTestCase() { qInstallMessageHandler(g_previous); }

    void hostMatching()
    {
        QVERIFY(NetworkPolicy::entryMatches(QStringLiteral("api.example.com"), QStringLiteral("API.example.com."), 443));
        QVERIFY(!NetworkPolicy::entryMatches(QStringLiteral("api.example.com"), QStringLiteral("xapi.example.com"), 443));
        QVERIFY(NetworkPolicy::entryMatches(QStringLiteral("*.example.com"), QStringLiteral("a.b.example.com"), 80));
        QVERIFY(!NetworkPolicy::entryMatches(QStringLiteral("*.example.com"), QStringLiteral("example.com"), 80));
        QVERIFY(!NetworkPolicy::entryMatches(QStringLiteral("*.example.com"), QStringLiteral("badexample.com"), 80));
        QVERIFY(NetworkPolicy::entryMatches(QStringLiteral("example.com:8443"), QStringLiteral("example.com"), 8443));
        QVERIFY(!NetworkPolicy::entryMatches(QStringLiteral("example.com:8443"), QStringLiteral("example.com"), 443));
        // Addresses: only an exact address entry; wildcards and names never admit them.
        QVERIFY(NetworkPolicy::entryMatches(QStringLiteral("127.0.0.1"), QStringLiteral("127.0.0.1"), 80));
        QVERIFY(!NetworkPolicy::entryMatches(QStringLiteral("*.0.0.1"), QStringLiteral("127.0.0.1"), 80));
        QVERIFY(NetworkPolicy::entryMatches(QStringLiteral("[::1]:8080"), QStringLiteral("[::1]"), 8080));
        QVERIFY(NetworkPolicy::isIpLiteral(QStringLiteral("2130706433")));
        QVERIFY(NetworkPolicy::isIpLiteral(QStringLiteral("0x7f.1")));
        QVERIFY(!NetworkPolicy::isIpLiteral(QStringLiteral("allowed.test")));

        const NetworkPolicy p = limited({QStringLiteral("allowed.test"), QStringLiteral("*.wild.test")});
        QVERIFY(p.admits(QStringLiteral("allowed.test"), 80));
        QVERIFY(p.admits(QStringLiteral("x.wild.test"), 443));
        QVERIFY(!p.admits(QStringLiteral("wild.test"), 443));
        QVERIFY(!p.admits(QStringLiteral("denied.test"), 80));
        QVERIFY(!p.admits(QStringLiteral("127.0.0.1"), 80));
        QVERIFY(NetworkPolicy::unrestrictedPolicy().admits(QStringLiteral("anything.test"), 1));

        // Package registries and MCP servers count only with their flags.
        auto withFlags = NetworkPolicy::fromNetworkingJson(
            QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")},
                        {QStringLiteral("allowed_hosts"), QJsonArray{}},
                        {QStringLiteral("allow_package_managers"), true},
                        {QStringLiteral("allow_mcp_servers"), false}},
            {QStringLiteral("registry.test")}, {QStringLiteral("https://mcp.test/sse")});
        QVERIFY(withFlags);
        QVERIFY(withFlags->admits(QStringLiteral("registry.test"), 443));
        QVERIFY(!withFlags->admits(QStringLiteral("mcp.test"), 443));
        auto mcpOnly = NetworkPolicy::fromNetworkingJson(
            QJsonObject{{QStringLiteral("type"), QStringLiteral("limited")}, {QStringLiteral("allow_mcp_servers"), true}},
            {QStringLiteral("registry.test")}, {QStringLiteral("https://mcp.test/sse")});
        QVERIFY(mcpOnly->admits(QStringLiteral("mcp.test"), 443));
        QVERIFY(!mcpOnly->admits(QStringLiteral("registry.test"), 443));
    }

    void registryDiscovery()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QDir(dir.path()).mkpath(QStringLiteral("apt/sources.list.d"));
        auto write = [&](const QString &rel, const QByteArray &text) {
            QFile f(dir.filePath(rel));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(text);
        };
        write(QStringLiteral("apt/sources.list"),
              "# deb http://commented.test/debian bookworm main\n"
              "deb [signed-by=/x.gpg arch=amd64] http://one-line.test/debian bookworm main\n"
              "deb-src https://src.test/debian bookworm main\n");
        write(QStringLiteral("apt/sources.list.d/a.sources"),
              "Types: deb\nURIs: http://deb822-a.test/debian http://deb822-b.test/x\nSuites: bookworm\n\n"
              "Types: deb\nURIs: http://disabled.test/debian\nEnabled: no\n");
        write(QStringLiteral("apt/sources.list.d/b.list.disabled-by-admin"), "deb http://ignored.test/ x main\n");
        write(QStringLiteral("npmrc"), "fund=false\nregistry = https://npm-mirror.test/path/\n");

        PackageRegistries::Sources src;
        src.aptDir = dir.filePath(QStringLiteral("apt"));
        src.npmrcFiles = {dir.filePath(QStringLiteral("missing")), dir.filePath(QStringLiteral("npmrc"))};
        src.askNpm = false;
        const QStringList hosts = PackageRegistries::discover(src);
        QCOMPARE(hosts, (QStringList{QStringLiteral("one-line.test"), QStringLiteral("src.test"),
                                     QStringLiteral("deb822-a.test"), QStringLiteral("deb822-b.test"),
                                     QStringLiteral("npm-mirror.test")}));
        src.npmEnvRegistry = QStringLiteral("http://from-env.test:4873/");
        QVERIFY(PackageRegistries::discover(src).contains(QStringLiteral("from-env.test")));
        QVERIFY(!PackageRegistries::discover(src).contains(QStringLiteral("npm-mirror.test")));
    }

    void allowedDeniedAndRawIp()
    {
        LoopbackHttpServer server(echoRequest);
        QVERIFY(server.listen());
        EgressProxy proxy(limited({QStringLiteral("allowed.test")}));
        proxy.setResolverOverrides(testNames());
        QVERIFY(proxy.listen());
        QVERIFY(!proxy.listen(QHostAddress(QStringLiteral("0.0.0.0")))); // loopback only
        QSignalSpy refused(&proxy, &EgressProxy::refused);
        const QByteArray port = QByteArray::number(server.port());

        const QByteArray ok = exchange(proxy.serverPort(),
                                       "GET http://allowed.test:" + port + "/path?q=1 HTTP/1.1\r\nHost: allowed.test:"
                                           + port + "\r\nProxy-Connection: keep-alive\r\n\r\n");
        QCOMPARE(statusOf(ok), 200);
        QCOMPARE(server.connections(), 1);
        QVERIFY(server.requests().value(0).raw.startsWith("GET /path?q=1 HTTP/1.1\r\n"));
        QVERIFY(!server.requests().value(0).raw.toLower().contains("proxy-connection"));
        QVERIFY(server.requests().value(0).raw.contains("Connection: close\r\n"));

        const QByteArray denied = exchange(proxy.serverPort(), "GET http://denied.test:" + port
                                                                   + "/ HTTP/1.1\r\nHost: denied.test\r\n\r\n");
        QCOMPARE(statusOf(denied), 403);
        QVERIFY(denied.contains("denied.test is not allowed"));
        const QByteArray rawIp = exchange(proxy.serverPort(), "GET http://127.0.0.1:" + port
                                                                  + "/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QCOMPARE(statusOf(rawIp), 403);
        QVERIFY(rawIp.contains("IP address"));
        const QByteArray rawIp6 = exchange(proxy.serverPort(), "CONNECT [::1]:" + port + " HTTP/1.1\r\n\r\n");
        QCOMPARE(statusOf(rawIp6), 403);
        QCOMPARE(server.connections(), 1); // refused requests never reached the server
        QCOMPARE(refused.size(), 3);
        QCOMPARE(refused.at(0).at(0).toString(), QStringLiteral("denied.test"));

        // Not a proxy request, and https:// in absolute form: clear 400s.
        QCOMPARE(statusOf(exchange(proxy.serverPort(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
        QCOMPARE(statusOf(exchange(proxy.serverPort(), "GET https://allowed.test/ HTTP/1.1\r\n\r\n")), 400);

        // An explicitly listed address is admitted.
        proxy.setPolicy(limited({QStringLiteral("127.0.0.1")}));
        QCOMPARE(statusOf(exchange(proxy.serverPort(), "GET http://127.0.0.1:" + port + "/ HTTP/1.1\r\n\r\n")), 200);
        QCOMPARE(server.connections(), 2);
        QTRY_COMPARE(proxy.activeConnections(), 0);
    }

    // Found by fuzz_proxy_request: control bytes in the URL reached the policy check, the log
    // ("refused egress to …") and DNS; a CR inside a header line was forwarded upstream.
    void controlBytesRefused()
    {
        LoopbackHttpServer server(echoRequest);
        QVERIFY(server.listen());
        EgressProxy proxy(limited({QStringLiteral("allowed.test")}));
        proxy.setResolverOverrides(testNames());
        QVERIFY(proxy.listen());
        QSignalSpy refused(&proxy, &EgressProxy::refused);
        const QByteArray port = QByteArray::number(server.port());
        const QByteArray nul = exchange(proxy.serverPort(),
                                        QByteArrayLiteral("GET http://evil\0.test/ HTTP/1.1\r\n\r\n"));
        QCOMPARE(statusOf(nul), 400);
        QCOMPARE(statusOf(exchange(proxy.serverPort(), "CONNECT a\rb.test:443 HTTP/1.1\r\n\r\n")), 400);
        QCOMPARE(refused.size(), 0); // refused as malformed, never looked up or logged as a host
        const QByteArray cr = exchange(proxy.serverPort(), "GET http://allowed.test:" + port
                                                               + "/ HTTP/1.1\r\nX-A: 1\rX-Injected: yes\r\n\r\n");
        QCOMPARE(statusOf(cr), 400);
        QCOMPARE(server.connections(), 0);
        QTRY_COMPARE(proxy.activeConnections(), 0);
    }

    void connectTunnel()
    {
        LoopbackEchoServer echo;
        QVERIFY(echo.listen());
        EgressProxy proxy(limited({QStringLiteral("allowed.test")}));
        proxy.setResolverOverrides(testNames());
        QVERIFY(proxy.listen());
        const QByteArray port = QByteArray::number(echo.port());

        QTcpSocket s;
        QByteArray got;
        connect(&s, &QTcpSocket::readyRead, this, [&] { got += s.readAll(); });
        s.connectToHost(QHostAddress::LocalHost, proxy.serverPort());
        QTRY_COMPARE(s.state(), QAbstractSocket::ConnectedState);
        s.write("CONNECT allowed.test:" + port + " HTTP/1.1\r\nHost: allowed.test:" + port + "\r\n\r\n");
        QTRY_VERIFY(got.contains("\r\n\r\n"));
        QVERIFY(got.startsWith("HTTP/1.1 200 "));
        got.clear();
        s.write("ping through the tunnel");
        QTRY_COMPARE(got, QByteArray("ping through the tunnel"));
        QByteArray big(300000, 'x');
        for (int i = 0; i < big.size(); i += 997)
            big[i] = char('a' + i % 26);
        got.clear();
        s.write(big);
        QTRY_COMPARE_WITH_TIMEOUT(got.size(), big.size(), 10000);
        QCOMPARE(got, big);
        s.disconnectFromHost();
        QTRY_COMPARE(proxy.activeConnections(), 0);
        QCOMPARE(echo.connections(), 1);

        const QByteArray denied = exchange(proxy.serverPort(), "CONNECT denied.test:" + port + " HTTP/1.1\r\n\r\n");
        QCOMPARE(statusOf(denied), 403);
        QCOMPARE(echo.connections(), 1);
    }

    void placeholderSubstitution()
    {
        LoopbackHttpServer server(echoRequest);
        QVERIFY(server.listen());
        EgressProxy proxy(limited({QStringLiteral("*.allowed.test"), QStringLiteral("other.test")}));
        proxy.setResolverOverrides(testNames());
        const QString placeholder = SandboxNetwork::makePlaceholder();
        QVERIFY(placeholder.startsWith(QLatin1String("vivarium-placeholder-")));
        QVERIFY(placeholder != SandboxNetwork::makePlaceholder());
        const QByteArray ph = placeholder.toLatin1();
        const QByteArray secret = "s3cr3t-" + QByteArray::number(QDateTime::currentMSecsSinceEpoch());
        proxy.setCredentials({ProxyCredential{QStringLiteral("API_TOKEN"), ph, secret,
                                              {QStringLiteral("*.allowed.test")}, true, true}});
        QVERIFY(proxy.listen());
        const QByteArray port = QByteArray::number(server.port());

        auto post = [&](const QByteArray &host) {
            const QByteArray body = "{\"token\":\"" + ph + "\"}";
            return exchange(proxy.serverPort(), "POST http://" + host + ':' + port + "/v1 HTTP/1.1\r\nHost: " + host
                                                    + "\r\nAuthorization: Bearer " + ph
                                                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                                                    + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        };
        QCOMPARE(statusOf(post("api.allowed.test")), 200);
        const QByteArray seen = server.requests().value(0).raw;
        QVERIFY(seen.contains(QByteArray("Authorization: Bearer " + secret + "\r\n")));
        QVERIFY(seen.endsWith(QByteArray("{\"token\":\"" + secret + "\"}")));
        QVERIFY(seen.contains(QByteArray("Content-Length: " + QByteArray::number(secret.size() + 12) + "\r\n")));
        QVERIFY(!seen.contains(ph));

        // other.test is allowed by the environment but not by the credential: unchanged.
        QCOMPARE(statusOf(post("other.test")), 200);
        const QByteArray seenOther = server.requests().value(1).raw;
        QVERIFY(seenOther.contains(QByteArray("Authorization: Bearer " + ph + "\r\n")));
        QVERIFY(!seenOther.contains(secret));

        // Header-only credential: the body keeps the placeholder.
        proxy.setCredentials({ProxyCredential{QStringLiteral("API_TOKEN"), ph, secret, {}, true, false}});
        QCOMPARE(statusOf(post("other.test")), 200);
        const QByteArray seenHeaderOnly = server.requests().value(2).raw;
        QVERIFY(seenHeaderOnly.contains(QByteArray("Authorization: Bearer " + secret + "\r\n")));
        QVERIFY(seenHeaderOnly.endsWith(QByteArray("{\"token\":\"" + ph + "\"}")));

        // Guest env: placeholders and proxy settings only.
        const auto env = SandboxNetwork::guestEnvironment({{QStringLiteral("API_TOKEN"), placeholder}});
        QCOMPARE(env.value(QStringLiteral("API_TOKEN")), placeholder);
        QCOMPARE(env.value(QStringLiteral("HTTPS_PROXY")), QStringLiteral("http://127.0.0.1:3128"));
        for (const QString &v : env)
            QVERIFY(!v.toUtf8().contains(secret));

        // The secret never reached the log, which did capture the refusals.
        QCOMPARE(statusOf(post("denied.test")), 403);
        QMutexLocker lock(&g_logMutex);
        QVERIFY(g_log.contains(QLatin1String("refused egress to denied.test")));
        QVERIFY(!g_log.toUtf8().contains(secret));
    }

    void guestChannelMultiplexing()
    {
        // The host end of the virtio-serial port, driven by a test "guest" speaking frames.
        LoopbackHttpServer server(echoRequest);
        QVERIFY(server.listen());
        QTemporaryDir dir;
        QLocalServer fakeQemu;
        const QString path = dir.filePath(QStringLiteral("proxy.sock"));
        QVERIFY(fakeQemu.listen(path));
        EgressProxy proxy(limited({QStringLiteral("allowed.test")}));
        proxy.setResolverOverrides(testNames());
        ProxyChannel channel(path);
        channel.open();
        QTRY_VERIFY(fakeQemu.hasPendingConnections());
        QLocalSocket *guest = fakeQemu.nextPendingConnection();
        QTRY_VERIFY(channel.isConnected());

        QByteArray in;
        connect(guest, &QLocalSocket::readyRead, this, [&] { in += guest->readAll(); });
        const QByteArray port = QByteArray::number(server.port());

        // Before a proxy is attached (an unclaimed warm VM), streams are closed at once.
        guest->write(frame(7, 1));
        QTRY_COMPARE(in, frame(7, 3));
        in.clear();

        channel.setProxy(&proxy);
        guest->write(frame(1, 1) + frame(2, 1));
        guest->write(frame(1, 2, "GET http://allowed.test:" + port + "/one HTTP/1.1\r\nHost: a\r\n\r\n"));
        guest->write(frame(2, 2, "GET http://denied.test:" + port + "/two HTTP/1.1\r\nHost: d\r\n\r\n"));
        // Parse frames until both streams are closed by the host.
        QHash<quint32, QByteArray> data;
        QSet<quint32> closed;
        QTRY_VERIFY_WITH_TIMEOUT(([&] {
                                     while (in.size() >= 9) {
                                         const quint32 id = qFromBigEndian<quint32>(in.constData());
                                         const quint8 type = quint8(in.at(4));
                                         const quint32 n = qFromBigEndian<quint32>(in.constData() + 5);
                                         if (in.size() < 9 + qsizetype(n))
                                             break;
                                         if (type == 2)
                                             data[id] += in.mid(9, n);
                                         if (type == 3)
                                             closed.insert(id);
                                         in.remove(0, 9 + n);
                                     }
                                     return closed.size() == 2;
                                 }()),
                                 10000);
        QCOMPARE(statusOf(data.value(1)), 200);
        QVERIFY(data.value(1).contains("GET /one HTTP/1.1"));
        QCOMPARE(statusOf(data.value(2)), 403);
        QCOMPARE(server.connections(), 1);
        QTRY_COMPARE(channel.openStreams(), 0);
        QTRY_COMPARE(proxy.activeConnections(), 0);
    }

    void domainXmlFragment()
    {
        const QString limitedXml = SandboxNetwork::devicesXml(true, QStringLiteral("/tmp/x/p.sock"));
        QVERIFY(!limitedXml.contains(QLatin1String("<interface")));
        QVERIFY(limitedXml.contains(QLatin1String("name='vivarium.proxy'")));
        const QString openXml = SandboxNetwork::devicesXml(false, QStringLiteral("/tmp/x/p.sock"));
        QVERIFY(openXml.contains(QLatin1String("<interface type='user'>")));
        QVERIFY(openXml.contains(QLatin1String("path='/tmp/x/p.sock'")));
    }
};

QTEST_GUILESS_MAIN(TestEgressProxy)
#include "tst_egress_proxy.moc"
