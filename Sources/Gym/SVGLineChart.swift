import Foundation

/// A small line chart drawn as inline SVG text: no scripts, no fonts or files from anywhere else.
public struct SVGLineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed y range (e.g. 0…1 for rates); nil fits the data.
    public var yRange: ClosedRange<Double>?
    public var width = 480.0
    public var height = 260.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public init(title: String, yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
    }

    public func svg() -> String {
        let left = 52.0, right = 12.0, top = 28.0, bottom = 40.0 + 16 * Double((series.count + 2) / 3)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        let xs = all.map(\.x), ys = all.map(\.y)
        var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        if xMax <= xMin { xMax = xMin + 1 }
        var yMin = yRange?.lowerBound ?? (ys.min() ?? 0), yMax = yRange?.upperBound ?? (ys.max() ?? 1)
        if yRange == nil {
            if yMax <= yMin { yMax = yMin + 1; yMin -= 1 }
            let pad = (yMax - yMin) * 0.08
            yMin -= pad
            yMax += pad
        }
        if xMin == xMax { xMin -= 1 }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"
        out += "<title>\(HTML.escape(title))</title>"
        out += "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"600\">\(HTML.escape(title))</text>"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        for tick in Self.ticks(yMin, yMax, count: 5) {
            let y = py(tick)
            out += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e4e4e4\"/>"
            out += "<text x=\"\(left - 5)\" y=\"\(f(y + 4))\" font-size=\"10\" text-anchor=\"end\">\(Self.label(tick))</text>"
        }
        for tick in Self.ticks(xMin, xMax, count: 6) where tick == tick.rounded() {
            let x = px(tick)
            out += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 13))\" font-size=\"10\" text-anchor=\"middle\">\(Self.label(tick))</text>"
        }
        out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight + 26))\" font-size=\"10\" text-anchor=\"middle\">step</text>"
        out += "<text x=\"12\" y=\"\(f(top + plotHeight / 2))\" font-size=\"10\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(f(top + plotHeight / 2)))\">\(HTML.escape(yLabel))</text>"
        for (index, line) in series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let points = line.points.filter { $0.y.isFinite }
            if points.count > 1 {
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(path)\"/>"
            }
            for point in points where points.count <= 60 {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"2.5\" fill=\"\(color)\"/>"
            }
            let legendX = left + Double(index % 3) * (plotWidth / 3), legendY = top + plotHeight + 42 + Double(index / 3) * 16
            out += "<rect x=\"\(f(legendX))\" y=\"\(f(legendY - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            out += "<text x=\"\(f(legendX + 14))\" y=\"\(f(legendY + 1))\" font-size=\"11\">\(HTML.escape(line.name))</text>"
        }
        return out + "</svg>"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func ticks(_ low: Double, _ high: Double, count: Int) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var tick = ceil(low / step) * step
        var ticks: [Double] = []
        while tick <= high + step * 1e-9 {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e6 { return String(Int(value)) }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        return String(format: abs(value) < 1 ? "%.2f" : "%.1f", value)
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
