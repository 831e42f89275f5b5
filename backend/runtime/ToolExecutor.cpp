#include "ToolExecutor.h"

#include <QPointer>
#include <QTimer>

namespace viv {

namespace {

// Answers on the next event-loop turn (execute() must never call `done` re-entrantly).
class DeferredResult final : public ToolExecution
{
public:
    DeferredResult(ToolResult result, std::function<void(ToolResult)> done)
    {
        m_timer.setSingleShot(true);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer,
                         [result = std::move(result), done = std::move(done)] { done(result); });
        m_timer.start(0);
    }
    void cancel() override { m_timer.stop(); }

private:
    QTimer m_timer;
};

class NoSandboxToolExecutor final : public ToolExecutor
{
public:
    std::unique_ptr<ToolExecution> execute(const ToolCall &call, std::function<void(ToolResult)> done) override
    {
        return deferredToolResult(
            ToolResult::error(QStringLiteral("The %1 tool could not run: no sandbox is available for this "
                                             "session (Vivarium was built or started without a sandbox "
                                             "executor), so built-in tools cannot execute. Nothing was run.")
                                  .arg(call.name)),
            std::move(done));
    }
};

} // namespace

QString toolsetName(Toolset toolset)
{
    switch (toolset) {
    case Toolset::Builtin: return QStringLiteral("builtin");
    case Toolset::Custom: return QStringLiteral("custom");
    case Toolset::Mcp: return QStringLiteral("mcp");
    }
    return QStringLiteral("unknown");
}

std::unique_ptr<ToolExecution> deferredToolResult(ToolResult result, std::function<void(ToolResult)> done)
{
    return std::make_unique<DeferredResult>(std::move(result), std::move(done));
}

std::unique_ptr<ToolExecutor> makeNoSandboxToolExecutor()
{
    return std::make_unique<NoSandboxToolExecutor>();
}

} // namespace viv
