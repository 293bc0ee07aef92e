/** Job tokens moved to the shared contracts, where the transcoder verifies them with the same code. */
export { type JobClaims, signJobToken, verifyJobToken } from "../contracts/job-token.ts";
