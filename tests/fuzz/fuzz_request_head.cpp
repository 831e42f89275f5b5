// The HTTP request head rules of the API's front door (backend/api/RequestHead.*, applied by
// RequestGuard as the bytes arrive). Beyond "no crash, no UB": a verdict is the same however
// the bytes are split, because the guard judges each partial head as it arrives — a refusal or
// a complete head seen on a prefix must be what the whole input gets.
#include "FuzzCheck.h"

#include "api/RequestHead.h"

#include <cstdint>

using namespace viv::httphead;

namespace {

bool sameVerdict(const Verdict &a, const Verdict &b)
{
    return a.kind == b.kind && a.status == b.status && a.problem == b.problem && a.tooLong == b.tooLong
           && a.bodyAt == b.bodyAt && a.chunked == b.chunked && a.expectsContinue == b.expectsContinue
           && a.contentLength == b.contentLength;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const Verdict whole = judge(bytes);
    switch (whole.kind) {
    case Verdict::Kind::NeedMore:
        FUZZ_CHECK(bytes.size() <= kMaxHeadBytes);
        break;
    case Verdict::Kind::Refuse:
        FUZZ_CHECK(whole.status == 400 || whole.status == 505);
        FUZZ_CHECK(!whole.problem.isEmpty() && !whole.reason.isEmpty());
        break;
    case Verdict::Kind::Complete:
        FUZZ_CHECK(whole.bodyAt > 0 && whole.bodyAt <= bytes.size());
        FUZZ_CHECK(whole.bodyAt <= kMaxHeadBytes + 4);
        FUZZ_CHECK(whole.contentLength >= -1);
        // Content-Length and Transfer-Encoding together are refused.
        FUZZ_CHECK(!(whole.chunked && whole.contentLength >= 0));
        break;
    }
    // Every prefix: still waiting, or already the final verdict.
    const qsizetype step = qMax<qsizetype>(1, bytes.size() / 64);
    for (qsizetype n = 0; n < bytes.size(); n += step) {
        const Verdict part = judge(bytes.first(n));
        if (part.kind != Verdict::Kind::NeedMore)
            FUZZ_CHECK(sameVerdict(part, whole));
    }
    // The request line and Host rules on their own.
    const qsizetype eol = bytes.indexOf('\n');
    QString problem;
    const int status = requestLineProblem(bytes.left(eol < 0 ? bytes.size() : eol), &problem);
    FUZZ_CHECK((status == 0) == problem.isEmpty());
    if (hostSyntaxOk(bytes)) {
        for (char c : bytes)
            FUZZ_CHECK(uchar(c) > 0x20 && uchar(c) < 0x7f);
    }
    return 0;
}
