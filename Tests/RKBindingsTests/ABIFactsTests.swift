import RKLLMBindings_1_2_3
import RKNNBindings
import XCTest

/// The layouts of the vendor ABI as written down in `../shared/abi/rkllm.md` and `rknn.md` (LP64),
/// transcribed here by hand: an independent check of `Headers/` (LayoutTests only compares clang's
/// reading with Swift's, which agree on a wrong header too).
final class ABIFactsTests: XCTestCase {
    /// Type -> (size, [field: offset]) for the fields the ABI notes give an offset.
    static let facts: [String: (size: Int, offsets: [String: Int])] = [
        // rkllm.md
        "RKLLMExtendParam": (
            120,
            [
                "base_domain_id": 0, "embed_flash": 4, "enabled_cpus_num": 5, "enabled_cpus_mask": 8, "n_batch": 12,
                "use_cross_attn": 13, "reserved": 14,
            ]
        ),
        "RKLLMParam": (
            208,
            [
                "model_path": 0, "max_context_len": 8, "max_new_tokens": 12, "top_k": 16, "n_keep": 20, "top_p": 24,
                "temperature": 28, "repeat_penalty": 32, "frequency_penalty": 36, "presence_penalty": 40,
                "mirostat": 44, "mirostat_tau": 48, "mirostat_eta": 52, "skip_special_token": 56, "is_async": 57,
                "img_start": 64, "img_end": 72, "img_content": 80, "extend_param": 88,
            ]
        ),
        "RKLLMLoraAdapter": (24, ["lora_adapter_path": 0, "lora_adapter_name": 8, "scale": 16]),
        "RKLLMEmbedInput": (16, ["embed": 0, "n_tokens": 8]),
        "RKLLMTokenInput": (16, ["input_ids": 0, "n_tokens": 8]),
        "RKLLMMultiModalInput": (
            48,
            ["prompt": 0, "image_embed": 8, "n_image_tokens": 16, "n_image": 24, "image_width": 32, "image_height": 40]
        ),
        "RKLLMInput": (64, ["role": 0, "enable_thinking": 8, "input_type": 12, "prompt_input": 16]),
        "RKLLMLoraParam": (8, ["lora_adapter_name": 0]),
        "RKLLMPromptCacheParam": (16, ["save_prompt_cache": 0, "prompt_cache_path": 8]),
        "RKLLMCrossAttnParam": (
            40, ["encoder_k_cache": 0, "encoder_v_cache": 8, "encoder_mask": 16, "encoder_pos": 24, "num_tokens": 32]
        ),
        "RKLLMInferParam": (32, ["mode": 0, "lora_params": 8, "prompt_cache_params": 16, "keep_history": 24]),
        "RKLLMResultLastHiddenLayer": (16, ["hidden_states": 0, "embd_size": 8, "num_tokens": 12]),
        "RKLLMResultLogits": (16, ["logits": 0, "vocab_size": 8, "num_tokens": 12]),
        "RKLLMPerfStat": (
            20,
            [
                "prefill_time_ms": 0, "prefill_tokens": 4, "generate_time_ms": 8, "generate_tokens": 12,
                "memory_usage_mb": 16,
            ]
        ),
        "RKLLMResult": (72, ["text": 0, "token_id": 8, "last_hidden_layer": 16, "logits": 32, "perf": 48]),
        // rknn.md
        "rknn_input_output_num": (8, ["n_input": 0, "n_output": 4]),
        "rknn_tensor_attr": (
            376,
            [
                "index": 0, "n_dims": 4, "dims": 8, "name": 72, "n_elems": 328, "size": 332, "fmt": 336, "type": 340,
                "qnt_type": 344, "fl": 348, "zp": 352, "scale": 356, "w_stride": 360, "size_with_stride": 364,
                "pass_through": 368, "h_stride": 372,
            ]
        ),
        "rknn_input_range": (
            33040, ["index": 0, "shape_number": 4, "fmt": 8, "name": 12, "dyn_range": 268, "n_dims": 33036]
        ),
        "rknn_perf_detail": (16, ["perf_data": 0, "data_len": 8]),
        "rknn_perf_run": (8, ["run_duration": 0]),
        "rknn_sdk_version": (512, ["api_version": 0, "drv_version": 256]),
        "rknn_mem_size": (
            64,
            [
                "total_weight_size": 0, "total_internal_size": 4, "total_dma_allocated_size": 8, "total_sram_size": 16,
                "free_sram_size": 20, "reserved": 24,
            ]
        ),
        "rknn_custom_string": (1024, ["string": 0]),
        "rknn_tensor_mem": (
            40, ["virt_addr": 0, "phys_addr": 8, "fd": 16, "offset": 20, "size": 24, "flags": 28, "priv_data": 32]
        ),
        "rknn_input": (32, ["index": 0, "buf": 8, "size": 16, "pass_through": 20, "type": 24, "fmt": 28]),
        "rknn_output": (24, ["want_float": 0, "is_prealloc": 1, "index": 4, "buf": 8, "size": 16]),
        "rknn_init_extend": (
            136,
            [
                "ctx": 0, "real_model_offset": 8, "real_model_size": 12, "model_buffer_fd": 16,
                "model_buffer_flags": 20, "reserved": 24,
            ]
        ),
        "rknn_run_extend": (24, ["frame_id": 0, "non_block": 8, "timeout_ms": 12, "fence_fd": 16]),
        "rknn_output_extend": (8, ["frame_id": 0]),
        "rknn_quant_params": (288, ["name": 0, "scale": 256, "scale_len": 264, "zp": 272, "zp_len": 280]),
        "rknn_matmul_tensor_attr": (332, ["name": 0, "n_dims": 256, "dims": 260, "size": 324, "type": 328]),
        "rknn_matmul_io_attr": (996, ["A": 0, "B": 332, "C": 664]),
        "rknn_matmul_shape": (12, ["M": 0, "K": 4, "N": 8]),
        "rknn_matmul_info": (
            64,
            [
                "M": 0, "K": 4, "N": 8, "type": 12, "B_layout": 16, "B_quant_type": 18, "AC_layout": 20,
                "AC_quant_type": 22, "iommu_domain_id": 24, "group_size": 28, "reserved": 30,
            ]
        ),
        "rknn_gpu_op_context": (24, ["cl_context": 0, "cl_command_queue": 8, "cl_kernel": 16]),
        "rknn_custom_op_context": (48, ["target": 0, "internal_ctx": 8, "gpu_ctx": 16, "priv_data": 40]),
        "rknn_custom_op_tensor": (416, ["attr": 0, "mem": 376]),
        "rknn_custom_op_attr": (272, ["name": 0, "dtype": 256, "n_elems": 260, "data": 264]),
        "rknn_custom_op": (
            832,
            [
                "version": 0, "target": 4, "op_type": 8, "cl_kernel_name": 264, "cl_kernel_source": 520,
                "cl_source_size": 528, "cl_build_options": 536, "init": 792, "prepare": 800, "compute": 808,
                "compute_native": 816, "destroy": 824,
            ]
        ),
    ]

    func testEveryStructOfTheABINotesHasItsSizeAndOffsetsInOurHeaders() throws {
        let checks = Dictionary(uniqueKeysWithValues: layoutChecks.map { ($0.type, $0) })
        for (type, fact) in Self.facts.sorted(by: { $0.key < $1.key }) {
            let check = try XCTUnwrap(checks[type], "\(type) is not in Headers/")
            XCTAssertEqual(check.expectedSize, fact.size, "\(type): size")
            XCTAssertEqual(check.actualSize, fact.size, "\(type): size in Swift")
            let offsets = Dictionary(check.fields.map { ($0.name, $0) }) { first, _ in first }
            for (field, offset) in fact.offsets.sorted(by: { $0.key < $1.key }) {
                let read = try XCTUnwrap(offsets[field], "\(type).\(field) is not in Headers/")
                XCTAssertEqual(read.expected, offset, "\(type).\(field)")
            }
        }
    }

    func testTheABINotesCoverEveryStructOfOurHeaders() {
        let unchecked = Set(layoutChecks.map(\.type)).subtracting(Self.facts.keys)
        XCTAssertEqual(unchecked.sorted(), [], "structs of Headers/ the ABI notes give no layout for")
    }
}
