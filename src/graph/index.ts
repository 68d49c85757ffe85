/**
 * The `nnx` namespace: Modules, Variables, Rngs, graph operations and the lifted transforms.
 * Filled in by the object-graph and lifted-transform work; empty for now.
 *
 * @since 0.1.0
 */
export {}
