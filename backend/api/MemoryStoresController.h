#pragma once

namespace viv {
class ApiServer;
class MemoryStoreService;
// /v1/memory_stores, …/memories and …/memory_versions (the SDK's beta.memoryStores): parse the
// body and query, call the service with the request's `api_actor`, map the result.
void registerMemoryStoreRoutes(ApiServer &server, MemoryStoreService &service);
} // namespace viv
