// The Server-Sent Events parser both model providers read their streams with
// (backend/providers/SseParser.*). Beyond "no crash, no UB": the events do not depend on how
// the network splits the stream — all at once, byte by byte and in input-chosen chunks give
// the same events.
#include "FuzzCheck.h"

#include "providers/SseParser.h"

#include <cstdint>

using namespace viv;

namespace {

bool sameEvents(const QList<SseParser::Event> &a, const QList<SseParser::Event> &b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i)
        if (a[i].event != b[i].event || a[i].data != b[i].data)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    // The first byte picks the chunk size of the third pass.
    const qsizetype chunk = 1 + data[0] % 17;
    const QByteArray stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);

    SseParser once;
    const QList<SseParser::Event> all = once.feed(stream);

    SseParser bytewise;
    QList<SseParser::Event> byByte;
    for (char c : stream)
        byByte += bytewise.feed(QByteArray(1, c));

    SseParser chunked;
    QList<SseParser::Event> byChunk;
    for (qsizetype i = 0; i < stream.size(); i += chunk)
        byChunk += chunked.feed(stream.mid(i, chunk));

    FUZZ_CHECK(sameEvents(all, byByte));
    FUZZ_CHECK(sameEvents(all, byChunk));
    for (const SseParser::Event &e : all) {
        FUZZ_CHECK(!e.event.contains('\n'));
        FUZZ_CHECK(e.data.size() <= stream.size());
    }
    // The stream's end, as SseStreamCall sends it, flushes a pending event exactly once.
    const QList<SseParser::Event> tail = once.feed(QByteArrayLiteral("\n\n"));
    FUZZ_CHECK(tail.size() <= 1);
    FUZZ_CHECK(once.feed(QByteArrayLiteral("\n\n")).isEmpty());
    return 0;
}
