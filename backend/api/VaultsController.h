#pragma once

namespace viv {
class ApiServer;
class VaultService;
class CredentialBroker;
// /v1/vaults and /v1/vaults/{vault_id}/credentials: parse, call the service, map the result.
// Operations that touch the keychain answer asynchronously through the captured ReplyPtr;
// mcp_oauth_validate probes the credential's MCP server through the broker.
void registerVaultRoutes(ApiServer &server, VaultService &service, CredentialBroker &broker);
} // namespace viv
