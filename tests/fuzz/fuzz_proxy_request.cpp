// The request head parser of a sandbox's egress proxy (backend/sandbox/ProxyRequest.*), which
// reads what the guest — untrusted code — sends. Beyond "no crash, no UB": a request it lets
// through names a host fit for the policy check, a log line and a DNS lookup (no control
// characters or spaces), a real port, and only header lines that cannot split the upstream
// request (no CR, LF or NUL in what is forwarded).
#include "FuzzCheck.h"

#include "sandbox/ProxyRequest.h"

#include <cstdint>

using namespace viv::proxyrequest;

namespace {

bool clean(QByteArrayView s)
{
    for (char c : s)
        if (c == '\r' || c == '\n' || c == '\0')
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const Request r = parse(bytes);
    switch (r.kind) {
    case Request::Kind::NeedMore:
        FUZZ_CHECK(bytes.size() <= kMaxHead);
        return 0;
    case Request::Kind::Refuse:
        FUZZ_CHECK(r.status == 400 || r.status == 431);
        FUZZ_CHECK(!r.problem.isEmpty());
        return 0;
    case Request::Kind::Tunnel:
    case Request::Kind::Forward:
        break;
    }
    FUZZ_CHECK(r.headBytes >= 4 && r.headBytes <= bytes.size());
    FUZZ_CHECK(r.port >= 1);
    FUZZ_CHECK(!r.host.isEmpty());
    for (QChar c : r.host)
        FUZZ_CHECK(c.unicode() > 0x20 && c.unicode() < 0x7f);
    FUZZ_CHECK(clean(r.method));
    if (r.kind == Request::Kind::Forward) {
        FUZZ_CHECK(r.path.startsWith('/'));
        FUZZ_CHECK(clean(r.path) && !r.path.contains(' '));
        FUZZ_CHECK(clean(r.authority));
        for (const Header &h : r.headers) {
            FUZZ_CHECK(!h.name.isEmpty());
            FUZZ_CHECK(clean(h.name) && clean(h.value));
        }
    }
    return 0;
}
