/**
 * The activation functions Flax re-exports as `nnx.relu`, `nnx.gelu`, ...: the same functions as
 * the `nn` namespace (and `jnp.tanh`), so `nnx.Sequential(layer, nnx.relu, ...)` reads as in Flax.
 *
 * @since 0.1.0
 */
export {
  celu,
  elu,
  gelu,
  glu,
  hardSigmoid,
  hardSilu,
  hardSwish,
  hardTanh,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  logsumexp,
  oneHot,
  relu,
  relu6,
  selu,
  sigmoid,
  silu,
  softmax,
  softplus,
  softSign,
  standardize,
  swish
} from "../backend/numpy/nn.ts"
export { tanh } from "../backend/numpy/elementwise.ts"
