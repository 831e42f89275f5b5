#include "ProxyChannel.h"
#include "PortSocket.h"

#include "EgressProxy.h"

#include <QLoggingCategory>
#include <QtEndian>

Q_LOGGING_CATEGORY(lcProxyChannel, "vivarium.sandbox.proxy.channel")

namespace viv {

namespace {
enum : quint8 { kOpen = 1, kData = 2, kClose = 3 };
constexpr qsizetype kHeader = 9;
constexpr quint32 kMaxFrame = 1024 * 1024;
} // namespace

ProxyChannel::ProxyChannel(QString socketPath, QObject *parent) : QObject(parent), m_path(std::move(socketPath))
{
    m_retry.setSingleShot(true);
    m_retry.setInterval(50);
    connect(&m_retry, &QTimer::timeout, this, &ProxyChannel::tryConnect);
}

ProxyChannel::~ProxyChannel()
{
    m_closing = true;
    dropAll();
}

void ProxyChannel::open()
{
    tryConnect();
}

void ProxyChannel::tryConnect()
{
    if (m_closing)
        return;
    port::reopen(this, m_socket, m_path,
                 {.connected = [this] { Q_EMIT connected(); },
                  .readyRead = [this] { onReadyRead(); },
                  .error =
                      [this] {
                          if (m_socket->state() != QLocalSocket::ConnectedState && !m_closing)
                              m_retry.start();
                      },
                  .disconnected = [this] { dropAll(); }, // the VM went away; its streams with it
                  .bytesWritten =
                      [this](qint64 n) {
                          // Backpressure: streams report the shared socket's queue as their own
                          // (bytesToWrite), so proxy connections pause while it is full and
                          // resume here.
                          const auto streams = m_streams;
                          for (const QPointer<ProxyStream> &s : streams)
                              if (s)
                                  Q_EMIT s->bytesWritten(n);
                      }});
}

void ProxyChannel::dropAll()
{
    const auto streams = std::exchange(m_streams, {});
    for (const QPointer<ProxyStream> &s : streams)
        if (s) {
            s->detach();
            s->remoteClose();
        }
    m_in.clear();
}

void ProxyChannel::sendFrame(quint32 id, quint8 type, const QByteArray &payload)
{
    if (!isConnected())
        return;
    // Large writes are split so the guest's parser never sees a frame over 1 MiB.
    qsizetype off = 0;
    do {
        const QByteArray part = payload.mid(off, kMaxFrame);
        char head[kHeader];
        qToBigEndian<quint32>(id, head);
        head[4] = char(type);
        qToBigEndian<quint32>(quint32(part.size()), head + 5);
        m_socket->write(head, kHeader);
        if (!part.isEmpty())
            m_socket->write(part);
        off += part.size();
    } while (off < payload.size());
}

qint64 ProxyChannel::queuedBytes() const
{
    return m_socket ? m_socket->bytesToWrite() : 0;
}

void ProxyChannel::streamClosedLocally(quint32 id)
{
    if (m_streams.remove(id))
        sendFrame(id, kClose);
}

void ProxyChannel::onReadyRead()
{
    m_in += m_socket->readAll();
    while (m_in.size() >= kHeader) {
        const quint32 id = qFromBigEndian<quint32>(m_in.constData());
        const quint8 type = quint8(m_in.at(4));
        const quint32 len = qFromBigEndian<quint32>(m_in.constData() + 5);
        if (len > kMaxFrame) {
            qCWarning(lcProxyChannel) << "malformed frame from the guest forwarder; resetting the channel";
            dropAll();
            m_socket->abort();
            m_retry.start();
            return;
        }
        if (m_in.size() < kHeader + qsizetype(len))
            return;
        const QByteArray payload = m_in.mid(kHeader, len);
        m_in.remove(0, kHeader + len);
        switch (type) {
        case kOpen: {
            if (m_streams.contains(id)) // a reused id: the old stream is over
                if (ProxyStream *old = m_streams.take(id)) {
                    old->detach();
                    old->remoteClose();
                }
            if (!m_proxy) {
                sendFrame(id, kClose);
                break;
            }
            auto *s = new ProxyStream(this, id);
            m_streams.insert(id, s);
            m_proxy->attach(s);
            break;
        }
        case kData:
            if (ProxyStream *s = m_streams.value(id))
                s->deliver(payload);
            break;
        case kClose:
            if (ProxyStream *s = m_streams.take(id)) {
                s->detach();
                s->remoteClose();
            }
            break;
        default:
            break;
        }
    }
}

ProxyStream::ProxyStream(ProxyChannel *channel, quint32 id) : m_channel(channel), m_id(id)
{
    QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
}

ProxyStream::~ProxyStream()
{
    if (m_channel)
        m_channel->streamClosedLocally(m_id);
}

void ProxyStream::close()
{
    if (m_channel) {
        m_channel->streamClosedLocally(m_id);
        m_channel = nullptr;
    }
    QIODevice::close();
}

void ProxyStream::deliver(const QByteArray &data)
{
    m_buffer += data;
    Q_EMIT readyRead();
}

void ProxyStream::remoteClose()
{
    if (m_remoteClosed)
        return;
    m_remoteClosed = true;
    Q_EMIT readChannelFinished();
}

qint64 ProxyStream::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin<qint64>(maxSize, m_buffer.size());
    if (n == 0)
        return m_remoteClosed ? -1 : 0;
    memcpy(data, m_buffer.constData(), size_t(n));
    m_buffer.remove(0, n);
    return n;
}

qint64 ProxyStream::writeData(const char *data, qint64 maxSize)
{
    if (!m_channel)
        return -1;
    m_channel->sendFrame(m_id, kData, QByteArray(data, maxSize));
    return maxSize;
}

} // namespace viv
