#include "ToolRouter.h"

namespace viv {

void ToolRouter::install(Toolset toolset, std::unique_ptr<ToolExecutor> executor)
{
    Slot &slot = m_slots.at(index(toolset));
    slot.executor = executor.get();
    slot.owned = std::move(executor);
}

void ToolRouter::attach(Toolset toolset, ToolExecutor &executor)
{
    Slot &slot = m_slots.at(index(toolset));
    slot.owned.reset();
    slot.executor = &executor;
}

ToolExecutor *ToolRouter::executor(Toolset toolset) const
{
    return m_slots.at(index(toolset)).executor;
}

std::unique_ptr<ToolExecution> ToolRouter::execute(const ToolCall &call, std::function<void(ToolResult)> done)
{
    if (ToolExecutor *runner = executor(call.toolset))
        return runner->execute(call, std::move(done));
    return deferredToolResult(
        ToolResult::error(QStringLiteral("The %1 tool could not run: no executor is installed for the %2 "
                                         "toolset. Nothing was run.")
                              .arg(call.name, toolsetName(call.toolset))),
        std::move(done));
}

void ToolRouter::releaseSession(const QString &sessionId)
{
    for (const Slot &slot : m_slots)
        if (slot.executor)
            slot.executor->releaseSession(sessionId);
}

} // namespace viv
