import Foundation

/// AdamW as PyTorch defines it (decoupled weight decay), over one flat parameter buffer, with the gradient
/// first clipped to a global L2 norm.
public final class AdamW {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Clip the whole gradient to this L2 norm before the step; nil disables clipping.
    public var maxGradientNorm: Float?
    public private(set) var step = 0
    let firstMoment: UnsafeMutableBufferPointer<Float>
    let secondMoment: UnsafeMutableBufferPointer<Float>

    public init(parameterCount: Int, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01, maxGradientNorm: Float? = 1.0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
        firstMoment = .allocate(capacity: parameterCount)
        firstMoment.initialize(repeating: 0)
        secondMoment = .allocate(capacity: parameterCount)
        secondMoment.initialize(repeating: 0)
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Zero moments and step count, as a new optimizer has (a student's optimizer starts each inner loop so,
    /// without allocating its moments again).
    public func reset() {
        firstMoment.update(repeating: 0)
        secondMoment.update(repeating: 0)
        step = 0
    }

    /// The number of parameters its moments cover.
    public var parameterCount: Int { firstMoment.count }

    /// Sets the step count (bias correction) when the moments were read back from a checkpoint.
    func restore(step: Int) { self.step = step }

    /// The gradient's global L2 norm.
    public static func norm(_ gradient: UnsafeBufferPointer<Float>) -> Float {
        var sum = 0.0
        for g in gradient { sum += Double(g) * Double(g) }
        return Float(sum.squareRoot())
    }

    /// One update; returns the gradient norm before clipping (`norm`, when the caller has it already).
    @discardableResult
    public func update(parameters: UnsafeMutableBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>,
                       norm known: Float? = nil) -> Float {
        precondition(parameters.count == gradient.count && gradient.count == firstMoment.count)
        let norm = known ?? Self.norm(UnsafeBufferPointer(gradient))
        var scale: Float = 1
        if let limit = maxGradientNorm, norm > limit { scale = limit / (norm + 1e-6) }
        step += 1
        let correction1 = 1 - pow(beta1, Float(step)), correction2 = 1 - pow(beta2, Float(step))
        let stepSize = learningRate / correction1
        let decay = 1 - learningRate * weightDecay
        let p = parameters.baseAddress!, g = gradient.baseAddress!, m = firstMoment.baseAddress!, v = secondMoment.baseAddress!
        for i in 0..<parameters.count {
            let grad = g[i] * scale
            m[i] = beta1 * m[i] + (1 - beta1) * grad
            v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
            p[i] = p[i] * decay - stepSize * m[i] / ((v[i] / correction2).squareRoot() + epsilon)
        }
        return norm
    }
}
