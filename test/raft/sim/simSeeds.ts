// Shared by the CI test and the command line, so that a seed replays the same run in both.
export const SIM_STEPS = Object.freeze({ faultSteps: 600, calmSteps: 300 });

export function nodesForSeed(seed: number): 3 | 5 {
  return seed % 2 === 0 ? 5 : 3;
}
