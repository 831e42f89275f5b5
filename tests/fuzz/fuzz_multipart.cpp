// The multipart/form-data parser of `POST /v1/files` (backend/api/Multipart.*). Input: the
// request's Content-Type value, a line feed, then the body. Beyond "no crash, no UB": every
// part's bytes are a slice of the body, never more parts than the limit, every part named.
#include "FuzzCheck.h"

#include "api/Multipart.h"

#include <cstdint>

using namespace viv;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype nl = input.indexOf('\n');
    const QByteArray contentType = nl < 0 ? input : input.left(nl);
    const QByteArray body = nl < 0 ? QByteArray() : input.mid(nl + 1);

    // Content-Disposition values come from the same kind of header line.
    if (auto d = multipart::parseContentDisposition(contentType)) {
        FUZZ_CHECK(d->type == d->type.toLower());
    }
    const auto boundary = multipart::boundaryFromContentType(contentType);
    if (!boundary)
        return 0;
    FUZZ_CHECK(!boundary->isEmpty() && boundary->size() <= multipart::kMaxBoundaryLength);
    const auto parts = multipart::parse(body, *boundary);
    if (!parts) {
        FUZZ_CHECK(!parts.error().message().isEmpty());
        return 0;
    }
    FUZZ_CHECK(parts->size() <= multipart::kMaxParts);
    for (const multipart::Part &p : *parts) {
        FUZZ_CHECK(!p.name.isNull());
        FUZZ_CHECK(p.body.size() <= body.size());
        FUZZ_CHECK(p.body.isEmpty() || body.contains(p.body));
    }
    return 0;
}
