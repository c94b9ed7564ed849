// A tiny JSON writer with ordered keys and explicit nulls (the schema is
// documented at the top of main.swift).
import Foundation

indirect enum JSON {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double?)
    case string(String?)
    case array([JSON])
    case object([(String, JSON)])

    func render(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .number(d):
            guard let d, d.isFinite else { return "null" }
            if d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
            return String(format: "%.6g", d)
        case let .string(s):
            guard let s else { return "null" }
            return JSON.quote(s)
        case let .array(a):
            if a.isEmpty { return "[]" }
            // Short arrays of scalars stay on one line.
            if a.count <= 8, a.allSatisfy({ $0.isScalar }) {
                return "[" + a.map { $0.render() }.joined(separator: ", ") + "]"
            }
            return "[\n" + a.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(end)]"
        case let .object(o):
            if o.isEmpty { return "{}" }
            return "{\n" + o.map { pad + JSON.quote($0.0) + ": " + $0.1.render(indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(end)}"
        }
    }

    var isScalar: Bool {
        switch self { case .array, .object: return false; default: return true }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
