#pragma once

#include "core/Result.h"

#include <QJsonObject>

namespace viv::credentialauth {

// The validation of a vault credential's `auth` (CredentialAuth.cpp implements it; declared
// here so that the rules can be driven without the keychain step that follows them, e.g. by
// tests/fuzz/fuzz_json_fields.cpp). Secrets are separated from what is stored.
struct ParsedAuth
{
    QJsonObject auth;    // the stored, returned (non-secret) auth object
    QJsonObject secrets; // secret fields to store (create: all of them; update: the changes)
};

// A create's `auth`. `llmVault`: the credential's vault declares an LLM endpoint
// (services/LlmVault.h), where a static_bearer holds the model key and binds to no MCP server,
// so mcp_server_url is optional.
Result<ParsedAuth> parseCreateAuth(const QJsonObject &in, bool llmVault);
// An update patch against the current (stored) auth. The type cannot change; immutable
// fields (mcp_server_url, secret_name, client_id, token_endpoint) are not accepted.
Result<ParsedAuth> parseUpdateAuth(const QJsonObject &in, const QJsonObject &current);

} // namespace viv::credentialauth
