/**
 * The main job for now: a tour of effect-nnx's arrays and random numbers, printing what JAX prints
 * for the same calls. Run with `npm run demo`.
 */
import { Effect } from "effect"
import { Backend, jnp, nn, random } from "effect-nnx"

const section = (title: string): void => console.log(`\n== ${title}`)

section("Arrays (printed as JAX prints them)")
const x = jnp.arange(10).add(1)
console.log(x)
console.log(jnp.linspace(0, 1, 7))
console.log(jnp.array(0).add(1))
const m = jnp.reshape(jnp.arange(12), [3, 4])
console.log("m =", m)
console.log("m.T @ m =", m.T.matmul(m))
console.log("m.sum(axis 0) =", m.sum(0), " mean =", m.mean())
console.log("m[:, 1:3] =", m.get(":", "1:3"))
console.log("m.at[0, 0].set(100) =", m.at(0, 0).set(100))

section("Promotion follows JAX: weak JavaScript scalars keep the array's dtype")
console.log("int32 + 1.5   ->", jnp.arange(3).add(1.5))
console.log("float32 * 2   ->", jnp.ones([2]).mul(2))
console.log("int32 + uint32 ->", jnp.arange(3).add(jnp.arange(3).astype("uint32")).dtype)

section("Random numbers, bit-identical to JAX")
const key = random.key(0)
console.log("key(0)          =", key)
console.log("keyData(split(key(0), 3)) =", random.keyData(random.split(key, 3)).tolist())
console.log("uniform(key(0), [5]) =", random.uniform(key, [5]))
console.log("normal(key(1), [2, 3]) =", random.normal(random.key(1), [2, 3]))
console.log("randint(key(2), [8], 0, 10) =", random.randint(random.key(2), [8], 0, 10))
console.log("permutation(key(3), 8) =", random.permutation(random.key(3), 8))

section("nn")
const logits = jnp.array(
  [
    [1, 2, 3],
    [1, 1, 1]
  ],
  { dtype: "float32" }
)
console.log("softmax =", nn.softmax(logits))

section("Typed errors in the Effect error channel")
const bad = jnp.attempt(() => jnp.ones([2, 3]).matmul(jnp.ones([2, 3])))
const outcome = Effect.runSync(
  Effect.match(bad, { onFailure: (e) => `${e._tag}: ${e.message}`, onSuccess: () => "ok" })
)
console.log(outcome)

section("The Backend service: cpu by default, with a dispatch counter")
const counted = Effect.runSync(
  Backend.run(() => {
    const backend = Backend.currentBackend()
    Backend.resetStats(backend)
    jnp.ones([1000]).mul(2).add(1).sum()
    return `${backend.name}: ${backend.stats.dispatches} kernel dispatches`
  })
)
console.log(counted)
