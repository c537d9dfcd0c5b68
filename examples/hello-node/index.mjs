// A hello-world Lambda function for the nodejs runtimes (an ES module with an async handler).
let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  const name = event?.name ?? "world";
  console.log(`greeting ${name}`);
  return {
    message: `Hello, ${name}!`,
    requestId: context.awsRequestId,
    function: context.functionName,
    memoryMB: context.memoryLimitInMB,
    remainingMs: context.getRemainingTimeInMillis(),
    warmInvocations: invocations,
  };
};
