#pragma once

#include "ApiError.h"

#include <functional>
#include <utility>
#include <variant>

namespace viv {

// A value or an ApiError (std::expected is C++23; GCC 12 in C++20 mode lacks it).
template <typename T>
class [[nodiscard]] Result
{
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(ApiError error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_v); }
    const T &value() const & { return std::get<0>(m_v); }
    T &&value() && { return std::get<0>(std::move(m_v)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    const ApiError &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, ApiError> m_v;
};

struct Ok
{
};
using Status = Result<Ok>;

template <typename T>
using Callback = std::function<void(Result<T>)>;

} // namespace viv
