#pragma once

#include "LoopbackHttpServer.h"

#include <QByteArray>

// A model vendor's model list on 127.0.0.1, answering GET …/v1/models the way the vendor does:
// `Anthropic` — x-api-key + anthropic-version required, {"data":[{"type":"model",…}],"has_more":false}
// or a 401 authentication_error; `OpenAi` — Authorization: Bearer, {"object":"list","data":[{"object":
// "model",…}]} or a 401 (an empty `key` accepts every request, like a local Ollama). Any other path
// gets 404. Every request is kept (requests(), lastRequest()).
class FakeVendor : public viv::test::LoopbackHttpServer
{
public:
    enum class Flavor { Anthropic, OpenAi };

    FakeVendor(Flavor flavor, QByteArray key)
        : LoopbackHttpServer(
            [flavor, key = std::move(key)](const viv::test::HttpRequest &r) { return answer(flavor, key, r); })
    {
        listen();
    }

private:
    // The header line exactly as written (name, ": ", value), as the vendor's clients send it.
    static bool hasHeader(const viv::test::HttpRequest &r, const QByteArray &line)
    {
        return r.raw.contains(QByteArray("\r\n" + line + "\r\n"));
    }

    static viv::test::HttpResponse answer(Flavor flavor, const QByteArray &key, const viv::test::HttpRequest &r)
    {
        using viv::test::HttpResponse;
        const QByteArray json = "application/json";
        if (r.method != "GET" || r.target != "/v1/models")
            return HttpResponse::text(404, R"({"error":{"message":"not found"}})", json);
        if (flavor == Flavor::Anthropic) {
            if (!hasHeader(r, "anthropic-version: 2023-06-01") || !hasHeader(r, "x-api-key: " + key))
                return HttpResponse::text(
                    401, R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})",
                    json);
            return HttpResponse::text(
                200,
                R"({"data":[{"type":"model","id":"claude-sonnet-4-6","display_name":"Claude Sonnet 4.6",)"
                R"("created_at":"2026-01-01T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-6",)"
                R"("last_id":"claude-sonnet-4-6"})",
                json);
        }
        if (!key.isEmpty() && !hasHeader(r, "Authorization: Bearer " + key))
            return HttpResponse::text(
                401,
                R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})",
                json);
        return HttpResponse::text(
            200,
            R"({"object":"list","data":[{"id":"llama3.2","object":"model","created":1,"owned_by":"library"},)"
            R"({"id":"qwen2.5-coder:7b","object":"model","created":1,"owned_by":"library"}]})",
            json);
    }
};
