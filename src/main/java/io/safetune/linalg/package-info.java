/**
 * Dense linear algebra shared by the methods (EJML): pivoted and thin QR, symmetric eigen-decomposition,
 * SVD. Below the methods, beside the model stack; imports nothing of the lab.
 */
package io.safetune.linalg;
