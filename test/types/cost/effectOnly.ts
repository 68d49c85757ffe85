/**
 * An Effect-only file of about the size of `readme.ts`, for comparison in `node scripts/type-cost.mjs`:
 * a service, a layer, a tagged error, a generator program and a retry schedule.
 */
import { Context, Data, Effect, Layer, Schedule } from "effect"

class NotFound extends Data.TaggedError("NotFound")<{ readonly id: number }> {}

interface User {
  readonly id: number
  readonly name: string
}

class Users extends Context.Service<
  Users,
  {
    readonly find: (id: number) => Effect.Effect<User, NotFound>
    readonly all: Effect.Effect<ReadonlyArray<User>>
  }
>()("example/Users") {}

const table: ReadonlyArray<User> = [
  { id: 1, name: "Ada" },
  { id: 2, name: "Grace" },
  { id: 3, name: "Edsger" }
]

const UsersLive = Layer.succeed(Users, {
  find: (id: number) => {
    const user = table.find((u) => u.id === id)
    return user === undefined ? Effect.fail(new NotFound({ id })) : Effect.succeed(user)
  },
  all: Effect.succeed(table)
})

const greet = (id: number) =>
  Effect.gen(function* () {
    const users = yield* Users
    const user = yield* users.find(id)
    return `hello, ${user.name}`
  })

const program = Effect.gen(function* () {
  const users = yield* Users
  const everyone = yield* users.all
  const greetings = yield* Effect.forEach(everyone, (u) => greet(u.id), { concurrency: 2 })
  const missing = yield* greet(42).pipe(
    Effect.catchTag("NotFound", (e) => Effect.succeed(`no user ${e.id}`)),
    Effect.retry(Schedule.recurs(2))
  )
  const total = yield* Effect.sync(() => greetings.length)
  for (let i = 0; i < 3; i++) yield* Effect.log(`round ${i}`)
  return { greetings, missing, total }
})

const main = program.pipe(
  Effect.provide(UsersLive),
  Effect.tap((r) => Effect.log(r.greetings.join("; "))),
  Effect.map((r) => r.total)
)

Effect.runPromise(main).then((n) => console.log(`greeted ${n}`))
