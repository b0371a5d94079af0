/** Tests start servers with the same launcher `npm run local` uses. */
export * from '../../local/launch.ts';
