import Foundation

/// A chart drawn on the server as SVG: bars, stacked bars (each category one
/// bar split by series) or lines (one per series over the categories). It
/// carries a title and a description for screen readers and print, and the
/// page puts the table of the same figures beside it.
struct Chart: Sendable {
    enum Kind: Sendable { case bar, stackedBar, line }

    struct Series: Sendable {
        var name: String
        var values: [Double]
    }

    var kind: Kind
    var title: String
    var description: String
    var categories: [String]
    var series: [Series]
    /// Written after values on the axis ("%", "").
    var unit: String = ""

    /// Colour-blind-safe (Okabe–Ito), in the order series come.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999"]

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e12 ? String(Int(x)) : String(format: "%.2f", x)
    }

    /// A round upper bound for the axis.
    static func niceMaximum(_ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(x)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= x { return step * magnitude }
        return 10 * magnitude
    }

    func svg(id: String) -> String {
        // Room for the longest label on the left (bars) and for the last month on the right (lines).
        let longest = Double((kind == .line ? [] : categories).map(\.count).max() ?? 0)
        let width = 720.0, top = 16.0
        let left = kind == .line ? 60.0 : min(280, max(80, 7 * longest + 12)), right = kind == .line ? 36.0 : 24.0
        let plotWidth = width - left - right
        let legendColumns = max(1, Int((width - 20) / legendItemWidth))
        let legendHeight = series.count > 1 || kind == .stackedBar ? 22.0 * Double((series.count + legendColumns - 1) / legendColumns) : 0
        var body = ""
        var height: Double
        switch kind {
        case .bar, .stackedBar:
            // Horizontal bars: category labels on the left read well however long they are.
            let band = kind == .bar ? max(18.0, 8.0 + 14.0 * Double(series.count)) : 24.0
            let plotHeight = band * Double(max(categories.count, 1))
            height = top + plotHeight + 30 + legendHeight
            let totals = categories.indices.map { i in series.reduce(0) { $0 + ($1.values.indices.contains(i) ? $1.values[i] : 0) } }
            let peak = kind == .bar ? (series.flatMap(\.values).max() ?? 0) : (totals.max() ?? 0)
            let maximum = Self.niceMaximum(peak)
            body += axis(maximum: maximum, x0: left, y0: top, plotWidth: plotWidth, plotHeight: plotHeight)
            for (i, category) in categories.enumerated() {
                let y = top + band * Double(i)
                body += "<text x=\"\(left - 6)\" y=\"\(y + band / 2 + 4)\" text-anchor=\"end\" font-size=\"12\">\(Self.escape(category))</text>"
                var x = left
                for (s, serie) in series.enumerated() {
                    let value = serie.values.indices.contains(i) ? serie.values[i] : 0
                    let w = plotWidth * value / maximum
                    let colour = Self.palette[s % Self.palette.count]
                    let label = "\(Self.escape(category)), \(Self.escape(serie.name)): \(Self.number(value))\(Self.escape(unit))"
                    if kind == .bar {
                        let h = (band - 8) / Double(series.count)
                        body += "<rect x=\"\(left)\" y=\"\(y + 4 + h * Double(s))\" width=\"\(w)\" height=\"\(h)\" fill=\"\(colour)\"><title>\(label)</title></rect>"
                    } else {
                        body += "<rect x=\"\(x)\" y=\"\(y + 4)\" width=\"\(w)\" height=\"\(band - 8)\" fill=\"\(colour)\"><title>\(label)</title></rect>"
                        x += w
                    }
                }
            }
        case .line:
            let plotHeight = 220.0
            height = top + plotHeight + 46 + legendHeight
            let maximum = Self.niceMaximum(series.flatMap(\.values).max() ?? 0)
            for t in 0...4 {
                let value = maximum * Double(t) / 4, y = top + plotHeight - plotHeight * Double(t) / 4
                body += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotWidth)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
                body += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\" font-size=\"11\">\(Self.number(value))\(Self.escape(unit))</text>"
            }
            let step = categories.count > 1 ? plotWidth / Double(categories.count - 1) : 0
            let every = max(1, categories.count / 12)
            for (i, category) in categories.enumerated() where i % every == 0 {
                body += "<text x=\"\(left + step * Double(i))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\" font-size=\"11\">\(Self.escape(category))</text>"
            }
            for (s, serie) in series.enumerated() {
                let colour = Self.palette[s % Self.palette.count]
                let points = serie.values.enumerated().map { i, v in "\(left + step * Double(i)),\(top + plotHeight - plotHeight * v / maximum)" }
                body += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"><title>\(Self.escape(serie.name))</title></polyline>"
            }
        }
        body += legend(y: height - legendHeight + 4, left: 10, columns: legendColumns)
        let titleID = "\(id)-title", descriptionID = "\(id)-desc"
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\" class=\"chart\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" aria-labelledby=\"\(titleID) \(descriptionID)\" font-family=\"sans-serif\">"
            + "<title id=\"\(titleID)\">\(Self.escape(title))</title><desc id=\"\(descriptionID)\">\(Self.escape(description))</desc>"
            + body + "</svg>"
    }

    func axis(maximum: Double, x0: Double, y0: Double, plotWidth: Double, plotHeight: Double) -> String {
        var out = ""
        for t in 0...4 {
            let x = x0 + plotWidth * Double(t) / 4
            out += "<line x1=\"\(x)\" y1=\"\(y0)\" x2=\"\(x)\" y2=\"\(y0 + plotHeight)\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(x)\" y=\"\(y0 + plotHeight + 16)\" text-anchor=\"middle\" font-size=\"11\">\(Self.number(maximum * Double(t) / 4))\(Self.escape(unit))</text>"
        }
        return out
    }

    /// Each legend entry: a swatch and the longest series name.
    var legendItemWidth: Double { max(120, 7.5 * Double(series.map(\.name.count).max() ?? 0) + 30) }

    func legend(y: Double, left: Double, columns: Int) -> String {
        guard series.count > 1 || kind == .stackedBar else { return "" }
        var out = ""
        for (s, serie) in series.enumerated() {
            let x = left + Double(s % columns) * legendItemWidth, row = y + 22 * Double(s / columns)
            out += "<rect x=\"\(x)\" y=\"\(row)\" width=\"12\" height=\"12\" fill=\"\(Self.palette[s % Self.palette.count])\"/>"
            out += "<text x=\"\(x + 16)\" y=\"\(row + 11)\" font-size=\"12\">\(Self.escape(serie.name))</text>"
        }
        return out
    }
}
