#pragma once

namespace viv {
class ApiServer;
class VaultService;
// /v1/vaults and /v1/vaults/{vault_id}/credentials: parse, call the service, map the result.
// Operations that touch the keychain answer asynchronously through the captured ReplyPtr.
void registerVaultRoutes(ApiServer &server, VaultService &service);
} // namespace viv
