#!/usr/bin/env node
/**
 * The `neumatc` command line: a thin layer over the public API.
 *
 * `neumatc train` trains and saves a model (built-in family or the user's files), `predict`
 * evaluates a saved one, `check` verifies its answers, `info` prints a model file's metadata,
 * `baselines` times the baselines, `bench` runs the amortisation benchmark.
 *
 * One file per command in `cli/`. `neumatc demo` trains a model of an operation (`A(p)⁻¹` by default; `--op` picks any of
 * {@link OPERATIONS}) on one of the built-in families, then compares it with the exact solver on
 * held-out parameters (time per matrix and the paper's RelErr).
 *
 * Exit codes: 0 ok, 1 user error or `NeuMatCError`, 2 internal error (code `INTERNAL` or a bug).
 *
 * @module
 */
import { Command, CommanderError, Option } from 'commander'
import { NeuMatCError } from './index.js'
import { type DemoOptions, floatArg, intArg, paramsArg, withFamilyOptions } from './cli/shared.js'
import { demo } from './cli/demo.js'
import { type TrainCliOptions, trainCommand } from './cli/train.js'
import { type PredictCliOptions, predictCommand } from './cli/predict.js'
import { checkCommand } from './cli/check.js'
import { infoCommand } from './cli/info.js'
import { type BaselinesOptions, baselinesCommand } from './cli/baselines.js'
import { type BenchOptions, benchCommand, sizesArg } from './cli/bench.js'

/** Builds the command-line program (exported for tests). */
export function program(): Command {
  const cmd = new Command()
  cmd.name('neumatc').description('Fast parametric matrix operations, learned NeuMatC-style').exitOverride()
  withFamilyOptions(cmd.command('demo'), 'the family, the training and the held-out parameters')
    .description('train an operation (default A(p)^-1) on a family and compare with the exact solver on held-out parameters')
    .option('--test <count>', 'held-out parameters', intArg(1), 100)
    .option('--steps <steps>', 'optimiser steps (default: the engine default)', intArg(1))
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 7)
    .option('--json', 'print one JSON object instead of a table', false)
    .option('--quiet', 'no progress output', false)
    .action(async (o: DemoOptions, command: Command) => demo(o, command.getOptionValueSource('rank') === 'cli'))
  withFamilyOptions(cmd.command('train'), 'the family and the training')
    .description('train an operation on a built-in family and save the model (safetensors + JSON metadata, written atomically)')
    .requiredOption('--out <file>', 'where to save the model (e.g. model.neumatc)')
    .option('--steps <steps>', 'optimiser steps (default: the engine default)', intArg(1))
    .option('--accuracy <tol>', 'held-out RelErr the automatic latent dimension aims for', floatArg)
    .addOption(new Option('--dtype <dtype>', 'element type of the model').choices(['f32', 'f64']))
    .option('--device <name>', 'where to train: cpu (default), cuda or cuda:N (needs the CUDA build, NEUMATC_BACKEND=cuda)')
    .option('--samples <file>', 'train on your own matrices: a JSON description of the grid and the matrices (.npy or raw little-endian files)')
    .option('--rhs <list>', "b of --op solve on a --samples family, comma-separated", paramsArg)
    .option('--json', 'print the saved metadata as JSON', false)
    .option('--quiet', 'no progress output', false)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  neumatc train --n 128 --rank 10 --out inv128.neumatc\n' +
        '  neumatc train --op svd --n 64 --rank 8 --out svd.neumatc\n' +
        '  neumatc train --samples family.json --out mine.neumatc\n\n' +
        'family.json: { "paramDim": 1, "params": "p.npy", "matrices": "A.npy" }  (A.npy of shape (batch, rows, cols));\n' +
        'raw files: "matrices": { "file": "A.f64", "rows": 64, "cols": 64 }, "params": [0, 0.1, …] or a file.',
    )
    .action(async (o: TrainCliOptions, command: Command) => trainCommand(o, command.getOptionValueSource('rank') === 'cli'))
  withFamilyOptions(cmd.command('baselines'), 'the family and the held-out parameters')
    .description('time every baseline of an operation on held-out parameters of a built-in family (exact, NNI/COI/ZNNI, RSVD/CRSVD)')
    .option('--test <count>', 'held-out parameters', intArg(1), 100)
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 5)
    .option('--json', 'print JSON instead of a table', false)
    .option('--quiet', 'no notes on stderr', false)
    .addHelpText('after', '\nExamples:\n  neumatc baselines --n 128\n  neumatc baselines --op svd --n 128 --rank 10 --json')
    .action(async (o: BaselinesOptions, command: Command) => baselinesCommand(o, command.getOptionValueSource('rank') === 'cli'))
  cmd
    .command('bench')
    .description('amortisation benchmark: train an inverse model per matrix order and time it against LU (error, training cost, break-even batch)')
    .option('--sizes <list>', 'matrix orders', sizesArg, [64, 128, 256])
    .option('--batch <count>', 'parameters per timed batch', intArg(1), 100)
    .option('--seed <seed>', 'seed of the families, the training and the parameters', intArg(0), 7)
    .option('--runs <runs>', 'timed runs per measurement (median after warm-up)', intArg(1), 5)
    .option('--json', 'print JSON instead of a table', false)
    .option('--quiet', 'no progress output', false)
    .addHelpText('after', '\nExamples:\n  neumatc bench\n  neumatc bench --sizes 256,512 --batch 200 --json\n\nThe full paper-table suite is `npm run bench` in a checkout.')
    .action(async (o: BenchOptions) => benchCommand(o))
  cmd
    .command('predict')
    .description("evaluate a saved model at parameters; prints the result components as JSON")
    .argument('<model>', 'a model file written by `neumatc train` or model.save()')
    .requiredOption('--params <list>', 'comma-separated parameters, batch * paramDim numbers (e.g. 0.1,0.5,0.9)', paramsArg)
    .option('--extrapolate', 'allow parameters outside the trained domain (with a warning)', false)
    .option('--device <name>', 'where to predict: cpu (default), cuda or cuda:N (needs the CUDA build, NEUMATC_BACKEND=cuda)')
    .option('--pretty', 'indent the JSON', false)
    .action(async (file: string, o: PredictCliOptions) => predictCommand(file, o))
  cmd
    .command('check')
    .description("a-posteriori residuals of a saved model's answers at parameters (no exact solve)")
    .argument('<model>', 'a model file')
    .requiredOption('--params <list>', 'comma-separated parameters, batch * paramDim numbers', paramsArg)
    .option('--probes <k>', 'estimate the norms with k random probes instead of exactly', intArg(1))
    .option('--extrapolate', 'allow parameters outside the trained domain (with a warning)', false)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (file: string, o: { params: Float64Array; extrapolate: boolean; probes?: number; json: boolean }) => checkCommand(file, o))
  cmd
    .command('info')
    .description("a model file's metadata: format, operation, shapes, family, domain, training report")
    .argument('<model>', 'a model file')
    .option('--json', 'print the whole metadata as JSON', false)
    .action((file: string, o: { json: boolean }) => infoCommand(file, o))
  return cmd
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv)
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1
    if (e instanceof NeuMatCError) {
      process.stderr.write(`neumatc: ${e.code}: ${e.message}\n`)
      return e.code === 'INTERNAL' ? 2 : 1
    }
    if (e instanceof TypeError || e instanceof RangeError) {
      process.stderr.write(`neumatc: ${e.message}\n`)
      return 1
    }
    process.stderr.write(`neumatc: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return 2
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code
    },
    () => {
      process.exitCode = 2
    },
  )
}
