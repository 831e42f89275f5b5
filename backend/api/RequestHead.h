#pragma once

#include <QByteArray>
#include <QString>

namespace viv::httphead {

// The judgement of an HTTP/1.x request head, pure (no socket), so that RequestGuard's rules
// can be unit-tested and fuzzed (tests/fuzz/fuzz_request_head.cpp) on their own.
//
// Rules (README "Limits" and docs/DESIGN.md): a request line "METHOD /origin-form HTTP/1.x"
// (one empty line before it tolerated; another HTTP version is 505; a target with a control,
// space or non-ASCII byte is 400); the head ends at the first CRLFCRLF or LFLF and is at most
// kMaxHeadBytes; at most one Host, of host[:port] syntax; at most one Content-Length, of 1–18
// decimal digits, never together with Transfer-Encoding.
constexpr qsizetype kMaxHeadBytes = 64 * 1024;

struct Verdict
{
    enum class Kind {
        NeedMore, // nothing wrong so far; the head is not complete yet
        Refuse,   // answer `status` `reason` with `problem` and close
        Complete, // a complete, acceptable head
    };
    Kind kind = Kind::NeedMore;

    // Refuse:
    int status = 0;
    QByteArray reason;
    QString problem;
    bool tooLong = false; // the head itself is over the limit (the rest is not read, just dropped)

    // Complete:
    qsizetype bodyAt = -1;      // offset of the first body byte in the judged bytes
    bool chunked = false;       // Transfer-Encoding names chunked
    bool expectsContinue = false;
    qint64 contentLength = -1;  // -1: no Content-Length
};

// Judges the bytes of a request as far as they have arrived (`bytes` may go on into the body).
Verdict judge(const QByteArray &bytes);

// What is wrong with a request line (CR LF already stripped or not): 0 when nothing.
int requestLineProblem(QByteArray line, QString *problem);
// Host syntax: a name, an IPv4 address or a bracketed IPv6 address, then at most ":port".
bool hostSyntaxOk(const QByteArray &value);

} // namespace viv::httphead
