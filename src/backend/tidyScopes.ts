/**
 * The scopes of `Backend.tidy` on a backend that owns its memory (wasm, gpujs): each open tidy
 * collects the buffers made while it runs; when it returns, those not in its result are disposed and
 * the kept ones join the enclosing scope, so nested tidies release what each made.
 */

/** Open tidy scopes over buffers of type `B`, innermost last. */
export class TidyScopes<B> {
  private readonly scopes: Array<Set<B>> = []

  /** Records a buffer made now in the innermost open scope, if any. */
  add(buffer: B): void {
    this.scopes[this.scopes.length - 1]?.add(buffer)
  }

  /** Takes a buffer out of every open scope: it outlives them all (an array stored in a Variable). */
  keep(buffer: B): void {
    for (const s of this.scopes) s.delete(buffer)
  }

  /**
   * Runs `f`, then disposes every buffer made during it except those `keep` names in its result;
   * if `f` throws, disposes them all.
   */
  track<A>(f: () => A, keep: (a: A) => ReadonlySet<unknown>, dispose: (buffer: B) => void): A {
    const made = new Set<B>()
    this.scopes.push(made)
    let result: A
    try {
      result = f()
    } catch (e) {
      this.scopes.pop()
      for (const b of made) dispose(b)
      throw e
    }
    this.scopes.pop()
    const kept = keep(result)
    const outer = this.scopes[this.scopes.length - 1]
    for (const b of made) {
      if (kept.has(b)) outer?.add(b)
      else dispose(b)
    }
    return result
  }
}
