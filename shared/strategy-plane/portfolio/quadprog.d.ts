/** Types for the untyped `quadprog` package (Goldfarb-Idnani dual QP): arrays are 1-indexed, slot 0 unused. */
declare module 'quadprog' {
  interface QpResult {
    solution: number[];
    Lagrangian: number[];
    value: number[];
    iterations: number[];
    iact: number[];
    /** Empty on success. */
    message: string;
  }
  const quadprog: {
    /** Minimises -dvec'b + 1/2 b'Dmat b subject to Amat'b >= bvec, the first `meq` constraints as equalities. Overwrites Dmat and dvec. */
    solveQP(Dmat: number[][], dvec: number[], Amat: number[][], bvec: number[], meq?: number): QpResult;
  };
  export default quadprog;
}
