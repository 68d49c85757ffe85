/**
 * What a value is to the object graph, and the low-level Module object protocol. Internal.
 *
 * A graph holds:
 * - graph nodes with identity: Modules (and so Rngs and RngStreams) and Variables. Shared ones are
 *   stored once and come back shared; they may form cycles.
 * - containers without identity: plain lists (JavaScript arrays) and plain records (objects whose
 *   prototype is `Object.prototype` or `null`), traversed like Flax traverses lists and dicts;
 * - data leaves: `jnp` Arrays held directly (not in a Variable);
 * - static values: everything else (strings, numbers, booleans, `null`, functions, class instances),
 *   kept in the GraphDef.
 *
 * Modules are wrapped in a Proxy at construction so that every attribute write or delete goes
 * through the trace-level check (`checkMutable`), as Flax's `Module.__setattr__` does.
 *
 * @since 0.1.0
 */
import { isArray } from "../backend/Array.ts"
import { compareKeys } from "./path.ts"
import type { HasTraceState } from "./traceState.ts"
import { checkMutable, makeTraceState, TraceStateKey } from "./traceState.ts"
import { isVariable } from "./Variable.ts"

/** @internal */
export const ModuleTypeId: unique symbol = Symbol.for("effect-nnx/Module")

/**
 * A class hook: how to make an empty instance without running the constructor. Classes whose
 * instances are not plain objects (callable `RngStream`s) override it. @internal
 */
export const CreateEmpty: unique symbol = Symbol.for("effect-nnx/Module/createEmpty")

/** The structural view of a Module that graph code needs. @internal */
export interface ModuleLike extends HasTraceState {
  readonly [ModuleTypeId]: typeof ModuleTypeId
}

/** A Module class as graph code sees it. @internal */
export interface ModuleClass {
  readonly prototype: object
  readonly name: string
  readonly [CreateEmpty]?: () => ModuleLike
}

/**
 * Whether `u` is a Module (including Rngs and RngStream).
 * @category guards
 * @since 0.1.0
 */
export const isModule = (u: unknown): u is ModuleLike =>
  (typeof u === "object" || typeof u === "function") && u !== null && ModuleTypeId in u

const nameOf = (u: object): string => {
  const ctor: unknown = (u as { constructor?: unknown }).constructor
  return typeof ctor === "function" && ctor.name !== "" ? ctor.name : "Module"
}

const handler: ProxyHandler<object> = {
  // A [[Set]] on the proxy ends in [[DefineOwnProperty]] on it, so this trap sees plain
  // assignments as well as class-field definitions and Object.defineProperty.
  defineProperty(target, key, descriptor) {
    if (typeof key === "string") checkMutable(target as HasTraceState, () => nameOf(target))
    return Reflect.defineProperty(target, key, descriptor)
  },
  deleteProperty(target, key) {
    if (typeof key === "string") checkMutable(target as HasTraceState, () => nameOf(target))
    return Reflect.deleteProperty(target, key)
  }
}

/**
 * A Module's target knows its proxy (so methods called on the target, inspection, can find it) and
 * itself (so the graph walk, holding the proxy, lists keys on the target: listing them through the
 * proxy, which forwards each key's descriptor lookup, cost most of a split). Hidden properties, not
 * WeakMaps: a WeakMap entry per Module made `merge` twice as slow.
 */
const ProxyKey: unique symbol = Symbol("effect-nnx/Module/proxy")
const TargetKey: unique symbol = Symbol("effect-nnx/Module/target")

interface Wrapped {
  readonly [ProxyKey]?: object
  readonly [TargetKey]?: object
}

/**
 * Turns a fresh object (whose prototype is a Module class's) into a Module: records its trace
 * level and wraps it in the mutation-checking proxy. @internal
 */
export const wrapModule = <T extends object>(target: T): T => {
  const proxy = new Proxy<T>(target, handler)
  Object.defineProperties(target, {
    [TraceStateKey]: { value: makeTraceState() },
    [ProxyKey]: { value: proxy },
    [TargetKey]: { value: target }
  })
  return proxy
}

/** The target of a Module given either it or its proxy (reads and writes there skip the proxy's checks). @internal */
export const moduleTarget = (m: object): object => (m as Wrapped)[TargetKey] ?? m

/** The proxy of a Module given either it or its target. @internal */
export const moduleProxy = (self: object): object => (self as Wrapped)[ProxyKey] ?? self

/** An empty instance of a Module class, made without its constructor. @internal */
export const createEmptyModule = (type: ModuleClass): ModuleLike => {
  const hook = type[CreateEmpty]
  if (hook !== undefined) return hook.call(type)
  const target: ModuleLike = Object.create(type.prototype)
  return wrapModule(target)
}

/** An attribute name that is an array index (`nnx.List`'s items): a number in paths, as Flax's. */
const indexKey = /^(?:0|[1-9]\d{0,8})$/

/** A Module's attribute names in traversal order (sorted, as Flax sorts; indices first, as numbers). @internal */
export const moduleKeys = (m: object): Array<string | number> => {
  const keys: Array<string | number> = Object.keys(moduleTarget(m))
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string
    const c = k.charCodeAt(0)
    if (c >= 48 && c <= 57 && indexKey.test(k)) keys[i] = Number(k)
  }
  return keys.length > 1 ? keys.sort(compareKeys) : keys
}

/** Removes every attribute of a Module (to refill it in place). @internal */
export const clearModule = (m: object): void => {
  for (const k of Object.keys(m)) Reflect.deleteProperty(m, k)
}

/** Defines an own, enumerable, writable attribute (never invoking setters or `__proto__`). @internal */
export const defineAttribute = (obj: object, key: string | number, value: unknown): void => {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
}

/** Whether `u` is a plain record: an object whose prototype is `Object.prototype` or `null`. */
export const isRecord = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto: unknown = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** What a value is to the graph. @internal */
export type NodeKind = "module" | "variable" | "array" | "list" | "record" | "static"

/** Classifies a value for traversal; see the module doc. @internal */
export const classify = (u: unknown): NodeKind => {
  if (typeof u === "object" || typeof u === "function") {
    if (u === null) return "static"
    if (isModule(u)) return "module"
    if (isVariable(u)) return "variable"
    if (isArray(u)) return "array"
    if (Array.isArray(u)) return "list"
    if (isRecord(u)) return "record"
  }
  return "static"
}

/** The keys of a container in traversal order. @internal */
export const containerKeys = (u: object, kind: "module" | "list" | "record"): Array<string | number> => {
  if (kind === "list") {
    const n = (u as ReadonlyArray<unknown>).length
    const out = new Array<number>(n)
    for (let i = 0; i < n; i++) out[i] = i
    return out
  }
  return moduleKeys(u)
}

/** The class name of a graph object, for messages and displays. @internal */
export const typeName = nameOf
