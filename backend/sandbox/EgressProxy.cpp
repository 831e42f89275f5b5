#include "EgressProxy.h"

#include "ProxyRequest.h"

#include <QLocalSocket>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcProxy, "vivarium.sandbox.proxy")

namespace viv {

namespace {

constexpr qint64 kMaxSubstitutedBody = 8 * 1024 * 1024;
constexpr qint64 kHighWater = 1024 * 1024;
constexpr int kHeadTimeoutMs = 30000;
constexpr int kConnectTimeoutMs = 30000;

// Ends a client or upstream stream after what was written has gone out, then deletes it.
void closeGracefully(QIODevice *dev)
{
    if (!dev)
        return;
    QObject::disconnect(dev, nullptr, nullptr, nullptr);
    if (auto *s = qobject_cast<QAbstractSocket *>(dev)) {
        if (s->state() == QAbstractSocket::UnconnectedState) {
            s->deleteLater();
            return;
        }
        QObject::connect(s, &QAbstractSocket::disconnected, s, &QObject::deleteLater);
        QObject::connect(s, &QAbstractSocket::errorOccurred, s, &QObject::deleteLater);
        s->disconnectFromHost();
        if (s->state() == QAbstractSocket::UnconnectedState)
            s->deleteLater();
        return;
    }
    if (auto *l = qobject_cast<QLocalSocket *>(dev)) {
        if (l->state() == QLocalSocket::UnconnectedState) {
            l->deleteLater();
            return;
        }
        QObject::connect(l, &QLocalSocket::disconnected, l, &QObject::deleteLater);
        l->disconnectFromServer();
        if (l->state() == QLocalSocket::UnconnectedState)
            l->deleteLater();
        return;
    }
    dev->close();
    dev->deleteLater();
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400: return QByteArrayLiteral("Bad Request");
    case 403: return QByteArrayLiteral("Forbidden");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 413: return QByteArrayLiteral("Payload Too Large");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 502: return QByteArrayLiteral("Bad Gateway");
    case 504: return QByteArrayLiteral("Gateway Timeout");
    }
    return QByteArrayLiteral("Error");
}

// One client exchange: parse the request head, decide, connect upstream, then pipe.
class ProxyConnection : public QObject
{
public:
    ProxyConnection(EgressProxy *proxy, QIODevice *client) : QObject(proxy), m_proxy(proxy), m_client(client)
    {
        m_client->setParent(this);
        if (auto *s = qobject_cast<QAbstractSocket *>(m_client))
            s->setReadBufferSize(kHighWater);
        connect(m_client, &QIODevice::readyRead, this, &ProxyConnection::onClientData);
        connect(m_client, &QIODevice::bytesWritten, this, [this] { pump(m_upstream, m_client); });
        connect(m_client, &QIODevice::readChannelFinished, this, &ProxyConnection::onClientClosed);
        if (auto *s = qobject_cast<QAbstractSocket *>(m_client))
            connect(s, &QAbstractSocket::disconnected, this, &ProxyConnection::onClientClosed);
        if (auto *l = qobject_cast<QLocalSocket *>(m_client))
            connect(l, &QLocalSocket::disconnected, this, &ProxyConnection::onClientClosed);
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            if (m_stage == Stage::Head || m_stage == Stage::Body)
                fail(408, QStringLiteral("the request head did not arrive in time"));
            else if (m_stage == Stage::Connecting)
                fail(504, QStringLiteral("connecting to %1 timed out").arg(m_target.host));
        });
        m_timer.start(kHeadTimeoutMs);
        QTimer::singleShot(0, this, &ProxyConnection::onClientData);
    }
    ~ProxyConnection() override { m_proxy->connectionFinished(); }

private:
    enum class Stage { Head, Body, Connecting, Piping, Done };

    void onClientData()
    {
        if (m_stage == Stage::Done || !m_client)
            return;
        if (m_stage == Stage::Piping)
            return pump(m_client, m_upstream);
        m_buf += m_client->readAll();
        if (m_stage == Stage::Head)
            parseHead();
        if (m_stage == Stage::Body)
            maybeBodyComplete();
    }

    void parseHead()
    {
        // The head's syntax is ProxyRequest's (proxyrequest::parse); the decisions are here.
        const proxyrequest::Request r = proxyrequest::parse(m_buf);
        switch (r.kind) {
        case proxyrequest::Request::Kind::NeedMore:
            return;
        case proxyrequest::Request::Kind::Refuse:
            return fail(r.status, r.problem);
        case proxyrequest::Request::Kind::Tunnel:
        case proxyrequest::Request::Kind::Forward:
            break;
        }
        m_buf.remove(0, r.headBytes);
        m_target = {r.host, r.port};
        if (r.kind == proxyrequest::Request::Kind::Tunnel) {
            m_tunnel = true;
            if (!admit())
                return;
            return startUpstream();
        }
        if (!admit())
            return;
        if (!r.headerProblem.isEmpty())
            return fail(400, r.headerProblem);

        // The upstream request: origin-form target, hop-by-hop headers dropped, one request
        // per connection, placeholders substituted in header values for allowed hosts.
        QByteArray out = r.method + ' ' + r.path + " HTTP/1.1\r\n";
        for (const proxyrequest::Header &h : r.headers)
            out += h.name + ':' + m_proxy->substitute(h.value, m_target.host, true) + "\r\n";
        if (!r.haveHost)
            out += "Host: " + r.authority + "\r\n";
        out += "Connection: close\r\n";
        m_outHead = out;
        if (!r.chunked && r.contentLength > 0 && m_proxy->needsBodySubstitution(m_target.host)) {
            if (r.contentLength > kMaxSubstitutedBody)
                return fail(413, QStringLiteral("request bodies over 8 MiB are not buffered for credential "
                                                "substitution"));
            m_bodyLength = r.contentLength;
            m_stage = Stage::Body;
            return;
        }
        m_outHead += "\r\n";
        startUpstream();
    }

    void maybeBodyComplete()
    {
        if (m_buf.size() < m_bodyLength)
            return;
        const QByteArray body = m_proxy->substitute(m_buf.left(m_bodyLength), m_target.host, false);
        m_buf.remove(0, m_bodyLength);
        // Replace the Content-Length header with the substituted body's length.
        QByteArrayList lines = m_outHead.split('\n');
        QByteArray head;
        for (const QByteArray &l : std::as_const(lines)) {
            if (l.isEmpty())
                continue;
            if (l.toLower().startsWith("content-length:"))
                continue;
            head += l + '\n';
        }
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
        m_outHead = head + body;
        startUpstream();
    }

    bool admit()
    {
        if (m_proxy->policy().admits(m_target.host, m_target.port))
            return true;
        m_proxy->noteRefusal(m_target.host);
        const bool ip = NetworkPolicy::isIpLiteral(m_target.host);
        fail(403, ip ? QStringLiteral("Vivarium egress proxy: %1 is an IP address; this sandbox's network policy "
                                      "(limited) admits only the hosts in the environment's "
                                      "config.networking.allowed_hosts, and raw IP addresses only when listed "
                                      "exactly.")
                           .arg(m_target.host)
                     : QStringLiteral("Vivarium egress proxy: %1 is not allowed by this sandbox's network policy "
                                      "(limited). Add it to the environment's config.networking.allowed_hosts.")
                           .arg(m_target.host));
        return false;
    }

    void startUpstream()
    {
        m_stage = Stage::Connecting;
        m_timer.start(kConnectTimeoutMs);
        m_upstream = new QTcpSocket(this);
        m_upstream->setReadBufferSize(kHighWater);
        connect(m_upstream, &QTcpSocket::connected, this, &ProxyConnection::onUpstreamConnected);
        connect(m_upstream, &QIODevice::readyRead, this, [this] {
            if (m_stage == Stage::Piping)
                pump(m_upstream, m_client);
        });
        connect(m_upstream, &QIODevice::bytesWritten, this, [this] {
            if (m_stage == Stage::Piping)
                pump(m_client, m_upstream);
        });
        connect(m_upstream, &QTcpSocket::disconnected, this, &ProxyConnection::onUpstreamClosed);
        connect(m_upstream, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
            if (m_stage == Stage::Connecting)
                return fail(502, QStringLiteral("cannot connect to %1:%2: %3")
                                     .arg(m_target.host)
                                     .arg(m_target.port)
                                     .arg(m_upstream->errorString()));
            if (e == QAbstractSocket::RemoteHostClosedError)
                return; // disconnected() follows
            onUpstreamClosed();
        });
        const QHostAddress fixed = m_proxy->overrideFor(m_target.host);
        if (!fixed.isNull())
            m_upstream->connectToHost(fixed, m_target.port);
        else
            m_upstream->connectToHost(m_target.host, m_target.port);
    }

    void onUpstreamConnected()
    {
        m_timer.stop();
        m_stage = Stage::Piping;
        if (m_tunnel)
            m_client->write(QByteArrayLiteral("HTTP/1.1 200 Connection established\r\n\r\n"));
        else
            m_upstream->write(m_outHead);
        m_outHead.clear();
        if (!m_buf.isEmpty())
            m_upstream->write(std::exchange(m_buf, {}));
        pump(m_client, m_upstream);
        if (m_clientEnded)
            finish();
    }

    void pump(QIODevice *from, QIODevice *to)
    {
        if (!from || !to || m_stage != Stage::Piping)
            return;
        while (from->bytesAvailable() > 0 && to->bytesToWrite() < kHighWater) {
            const QByteArray chunk = from->read(64 * 1024);
            if (chunk.isEmpty())
                break;
            to->write(chunk);
        }
    }

    void onClientClosed()
    {
        if (m_clientEnded)
            return;
        m_clientEnded = true;
        if (m_stage == Stage::Piping) {
            pump(m_client, m_upstream);
            finish();
        } else if (m_stage != Stage::Connecting) {
            finish();
        } // Connecting: the request is sent once connected, then we finish.
    }

    void onUpstreamClosed()
    {
        if (m_stage == Stage::Done)
            return;
        if (m_stage == Stage::Piping && m_upstream && m_client) {
            // Drain what upstream sent; the client's buffer takes it all at this point.
            while (m_upstream->bytesAvailable() > 0)
                m_client->write(m_upstream->read(256 * 1024));
        }
        finish();
    }

    void fail(int status, const QString &message)
    {
        if (m_stage == Stage::Done)
            return;
        if (m_client && !m_clientEnded) {
            const QByteArray body = message.toUtf8() + '\n';
            m_client->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
                            + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                            + QByteArray::number(body.size()) + "\r\nConnection: close\r\n"
                            + "X-Vivarium-Proxy: " + (status == 403 ? "refused" : "error") + "\r\n\r\n" + body);
        }
        finish();
    }

    void finish()
    {
        if (m_stage == Stage::Done)
            return;
        m_stage = Stage::Done;
        m_timer.stop();
        // Hand both ends to the proxy so they flush after this object is gone.
        for (QIODevice *d : {static_cast<QIODevice *>(m_upstream.data()), m_client.data()}) {
            if (!d)
                continue;
            d->setParent(m_proxy);
            closeGracefully(d);
        }
        m_upstream = nullptr;
        m_client = nullptr;
        deleteLater();
    }

    EgressProxy *m_proxy;
    QPointer<QIODevice> m_client;
    QPointer<QTcpSocket> m_upstream;
    QTimer m_timer;
    Stage m_stage = Stage::Head;
    QByteArray m_buf;
    QByteArray m_outHead;
    qint64 m_bodyLength = 0;
    EgressProxy::Target m_target;
    bool m_tunnel = false;
    bool m_clientEnded = false;
};

} // namespace

EgressProxy::EgressProxy(NetworkPolicy policy, QObject *parent) : QObject(parent), m_policy(std::move(policy))
{
}

EgressProxy::~EgressProxy()
{
    // Connections first, while this object is still whole (they report back when they end).
    const auto children = findChildren<QObject *>(Qt::FindDirectChildrenOnly);
    for (QObject *c : children)
        if (c != m_server)
            delete c;
    // Secrets are wiped from memory, not just released.
    for (ProxyCredential &c : m_credentials)
        c.secret.fill('\0');
}

void EgressProxy::setCredentials(QList<ProxyCredential> credentials)
{
    for (ProxyCredential &c : m_credentials)
        c.secret.fill('\0');
    m_credentials = std::move(credentials);
}

void EgressProxy::setResolverOverrides(const QHash<QString, QHostAddress> &overrides)
{
    m_overrides.clear();
    for (auto it = overrides.cbegin(); it != overrides.cend(); ++it)
        m_overrides.insert(NetworkPolicy::normalizeHost(it.key()), it.value());
}

QHostAddress EgressProxy::overrideFor(const QString &host) const
{
    return m_overrides.value(NetworkPolicy::normalizeHost(host));
}

bool EgressProxy::listen(const QHostAddress &address, quint16 port)
{
    if (!address.isLoopback()) {
        qCWarning(lcProxy) << "the egress proxy listens on loopback addresses only";
        return false;
    }
    if (!m_server) {
        m_server = new QTcpServer(this);
        connect(m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server->nextPendingConnection())
                attach(s);
        });
    }
    return m_server->listen(address, port);
}

quint16 EgressProxy::serverPort() const
{
    return m_server ? m_server->serverPort() : 0;
}

void EgressProxy::attach(QIODevice *client)
{
    ++m_active;
    new ProxyConnection(this, client);
}

void EgressProxy::noteRefusal(const QString &host)
{
    qCInfo(lcProxy).noquote() << "refused egress to" << host;
    Q_EMIT refused(host);
}

static bool credentialApplies(const ProxyCredential &c, const QString &host)
{
    if (c.placeholder.isEmpty() || c.secret.isEmpty())
        return false;
    if (c.hosts.isEmpty())
        return true;
    for (const QString &e : c.hosts)
        if (NetworkPolicy::entryMatches(e, host, 0))
            return true;
    return false;
}

bool EgressProxy::needsBodySubstitution(const QString &host) const
{
    for (const ProxyCredential &c : m_credentials)
        if (c.inBody && credentialApplies(c, host))
            return true;
    return false;
}

QByteArray EgressProxy::substitute(QByteArray data, const QString &host, bool headers) const
{
    for (const ProxyCredential &c : m_credentials) {
        if (!(headers ? c.inHeaders : c.inBody) || !credentialApplies(c, host))
            continue;
        data.replace(c.placeholder, c.secret);
    }
    return data;
}

} // namespace viv
