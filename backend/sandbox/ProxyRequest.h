#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace viv::proxyrequest {

// The request head of one EgressProxy exchange, parsed without a socket so that it can be
// unit-tested and fuzzed (tests/fuzz/fuzz_proxy_request.cpp). EgressProxy applies the policy,
// credential substitution and the upstream connection to what this returns.
//
// Strict where the guest's bytes reach a log line, DNS or the upstream request: the method is a
// token, the target visible ASCII (400 otherwise), and a header line holding a control byte
// other than HTAB is malformed (400).
constexpr qsizetype kMaxHead = 64 * 1024;

struct Header
{
    QByteArray name;  // as sent (up to the colon)
    QByteArray lower; // trimmed, lower-cased: for comparisons
    QByteArray value; // everything after the colon, as sent
};

struct Request
{
    enum class Kind {
        NeedMore, // no complete head yet
        Refuse,   // answer `status` with `problem`
        Tunnel,   // CONNECT host:port
        Forward,  // absolute-form http:// request
    };
    Kind kind = Kind::NeedMore;
    int status = 0;
    QString problem;

    qsizetype headBytes = 0; // the head with its blank line: where the body starts
    QByteArray method;
    QString host;            // normalised (NetworkPolicy::normalizeHost)
    quint16 port = 0;
    // Forward only:
    QByteArray authority;    // as in the URL, for a Host header when the client sent none
    QByteArray path;         // origin-form target for upstream ("/" at least)
    QList<Header> headers;   // every header line but hop-by-hop ones, in order
    bool haveHost = false;
    qint64 contentLength = -1; // -1: none
    bool chunked = false;
    // A header line that is not `name: value`: refused (400) after the policy has admitted
    // the host, so a refused host is reported as such first.
    QString headerProblem;
};

// Parses the head at the start of `buffer` (which may go on into the body).
Request parse(const QByteArray &buffer);

} // namespace viv::proxyrequest
