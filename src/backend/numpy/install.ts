/**
 * Gives Array its methods (`x.add(y)`, `x.sum()`, `x.get(...)`): they call the NumPy functions of
 * this folder, installed here so that `Array.ts` itself does not import the library built on it.
 * The package entry imports this module first.
 */
import { installNumpy } from "../Array.ts"
import * as numpy from "./ops.ts"

installNumpy(numpy)
