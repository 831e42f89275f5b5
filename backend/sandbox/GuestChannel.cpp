#include "GuestChannel.h"
#include "PortSocket.h"

#include <QPointer>
#include <QJsonDocument>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcChannel, "vivarium.sandbox.channel")

namespace viv {

GuestChannel::GuestChannel(QString socketPath, QObject *parent) : QObject(parent), m_path(std::move(socketPath))
{
    m_retry.setSingleShot(true);
    m_retry.setInterval(10);
    connect(&m_retry, &QTimer::timeout, this, &GuestChannel::tryConnect);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        if (!m_ready) {
            m_retry.stop();
            m_closed = true;
            if (m_socket)
                m_socket->abort();
            Q_EMIT failed(QStringLiteral("the guest agent did not answer within %1 ms").arg(m_deadline.interval()));
        }
    });
}

GuestChannel::~GuestChannel()
{
    failAll(QStringLiteral("the sandbox is gone"));
}

void GuestChannel::open(int timeoutMs)
{
    m_deadline.start(timeoutMs);
    tryConnect();
}

void GuestChannel::tryConnect()
{
    if (m_closed)
        return;
    port::reopen(this, m_socket, m_path,
                 {.connected =
                      [this] {
                          // The agent announces itself when it opens the port; `hello` covers the
                          // case where that announcement was sent before we connected (a reconnect).
                          m_socket->write(QByteArrayLiteral("{\"id\":0,\"op\":\"hello\"}\n"));
                      },
                  .readyRead = [this] { onReadyRead(); },
                  .error =
                      [this] {
                          if (!m_closed && !m_ready)
                              m_retry.start(); // QEMU has not created the socket yet
                      },
                  .disconnected =
                      [this] {
                          if (m_closed)
                              return;
                          if (m_ready) {
                              m_ready = false;
                              m_closed = true;
                              failAll(QStringLiteral("the sandbox VM went away"));
                              Q_EMIT closed(QStringLiteral("the sandbox VM went away"));
                          } else {
                              m_retry.start();
                          }
                      }});
}

void GuestChannel::onReadyRead()
{
    m_buffer += m_socket->readAll();
    qsizetype start = 0;
    // A handler may close this channel (its sandbox destroyed): stop reading then.
    const QPointer<GuestChannel> self(this);
    for (;;) {
        const qsizetype nl = m_buffer.indexOf('\n', start);
        if (nl < 0)
            break;
        const QByteArray line = m_buffer.mid(start, nl - start);
        start = nl + 1;
        if (line.trimmed().isEmpty())
            continue;
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &err);
        if (!doc.isObject()) {
            qCWarning(lcChannel) << "malformed line from the guest agent:" << err.errorString();
            continue;
        }
        dispatch(doc.object());
        if (!self)
            return;
        if (m_closed) {
            m_buffer.clear();
            return;
        }
    }
    m_buffer.remove(0, start);
}

void GuestChannel::dispatch(const QJsonObject &msg)
{
    const QString type = msg.value(QLatin1String("type")).toString();
    const qint64 id = msg.value(QLatin1String("id")).toInteger(-1);
    if (type == QLatin1String("ready") && id == 0) {
        if (!m_ready) {
            m_ready = true;
            m_deadline.stop();
            Q_EMIT ready();
        }
        return;
    }
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    const bool final = type != QLatin1String("out") && type != QLatin1String("started");
    Handler h = final ? m_pending.take(id) : it.value();
    h(msg, final);
}

qint64 GuestChannel::request(QJsonObject req, Handler handler)
{
    if (!m_ready || !m_socket) {
        handler(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                            {QStringLiteral("message"), QStringLiteral("the sandbox's guest agent is not connected")},
                            {QStringLiteral("channel_closed"), true}},
                true);
        return -1;
    }
    const qint64 id = m_nextId++;
    req.insert(QStringLiteral("id"), id);
    m_pending.emplace(id, std::move(handler));
    m_socket->write(QJsonDocument(req).toJson(QJsonDocument::Compact) + '\n');
    return id;
}

void GuestChannel::close(const QString &reason)
{
    m_closed = true;
    m_ready = false;
    m_retry.stop();
    m_deadline.stop();
    failAll(reason);
    if (m_socket)
        m_socket->abort();
}

void GuestChannel::detach()
{
    m_ready = false;
    m_retry.stop();
    m_deadline.stop();
    m_buffer.clear(); // a partial line would be completed by nothing
    if (QLocalSocket *sock = std::exchange(m_socket, nullptr)) {
        sock->abort(); // its handlers ignore a socket that is no longer m_socket
        sock->deleteLater();
    }
}

void GuestChannel::failAll(const QString &reason)
{
    const auto pending = std::exchange(m_pending, {});
    for (const Handler &h : pending)
        h(QJsonObject{{QStringLiteral("type"), QStringLiteral("error")},
                      {QStringLiteral("message"), reason},
                      {QStringLiteral("channel_closed"), true}},
          true);
}

} // namespace viv
