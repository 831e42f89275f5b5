#pragma once

#include <QByteArray>
#include <QList>

namespace viv {

// Incremental Server-Sent Events parser (WHATWG rules that matter here: lines end in LF or
// CRLF, `event:` and `data:` fields, multi-line data joined with LF, blank line dispatches,
// comments ignored).
class SseParser
{
public:
    struct Event
    {
        QByteArray event;
        QByteArray data;
    };
    // Feeds bytes; returns the events completed by them.
    QList<Event> feed(const QByteArray &bytes);

private:
    QByteArray m_buffer;
    QByteArray m_event;
    QByteArray m_data;
    bool m_hasData = false;
};

} // namespace viv
