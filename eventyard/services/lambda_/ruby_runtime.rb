# Eventyard's small Ruby runtime client: loads the handler named by `_HANDLER` from LAMBDA_TASK_ROOT
# and loops on the Lambda Runtime API (next -> handler -> response|error), as AWS's ruby runtime does.
# Handlers: `file.method` (a top-level method) or `file.Module::Class.method` (a class or module
# method), called with the keyword arguments `event:` and `context:`. Errors are reported as AWS's
# runtime reports them: errorType `Function<Class>` (`Init<Class>` while loading), the message and
# the backtrace.
require "json"
require "net/http"

$stdout.sync = true

module EventyardRuntime
  BASE = "/2018-06-01/runtime".freeze

  # The `context` argument: the same readers as AWS's LambdaContext.
  class Context
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name, :function_name,
                :memory_limit_in_mb, :function_version, :identity, :client_context, :deadline_ms

    def initialize(headers)
      @aws_request_id = headers["lambda-runtime-aws-request-id"]
      @invoked_function_arn = headers["lambda-runtime-invoked-function-arn"]
      @deadline_ms = headers["lambda-runtime-deadline-ms"].to_i
      @identity = parse(headers["lambda-runtime-cognito-identity"])
      @client_context = parse(headers["lambda-runtime-client-context"])
      @log_group_name = ENV["AWS_LAMBDA_LOG_GROUP_NAME"]
      @log_stream_name = ENV["AWS_LAMBDA_LOG_STREAM_NAME"]
      @function_name = ENV["AWS_LAMBDA_FUNCTION_NAME"]
      @memory_limit_in_mb = ENV["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
      @function_version = ENV["AWS_LAMBDA_FUNCTION_VERSION"]
    end

    def get_remaining_time_in_millis
      [@deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
    end

    private

    def parse(text)
      text.nil? || text.empty? ? nil : JSON.parse(text)
    end
  end

  # An error as the Runtime API takes it, classified as AWS's runtime does (Init or Function).
  def self.error_document(error, classification)
    { errorMessage: error.message, errorType: "#{classification}<#{error.class}>",
      stackTrace: (error.backtrace || []) }
  end

  class Client
    def initialize(address)
      host, port = address.split(":")
      @http = Net::HTTP.new(host, port.to_i)
      @http.read_timeout = nil  # /next blocks until an invocation comes
      @http.start
    end

    def next_invocation
      response = @http.request(Net::HTTP::Get.new("#{BASE}/invocation/next"))
      [response.to_hash.transform_values(&:first), response.body]
    end

    def respond(request_id, body)
      post("#{BASE}/invocation/#{request_id}/response", body, {})
    end

    def error(path, document, error_type)
      post(path, JSON.generate(document), { "Lambda-Runtime-Function-Error-Type" => error_type })
    end

    private

    def post(path, body, headers)
      request = Net::HTTP::Post.new(path, { "Content-Type" => "application/json" }.merge(headers))
      request.body = body
      @http.request(request)
    end
  end

  # The callable `_HANDLER` names: [receiver, method name]. Loading the file may raise (Init errors).
  def self.load_handler(task_root, handler)
    file, target = handler.split(".", 2)
    raise ArgumentError, "Invalid handler #{handler}: expected file.method" if target.nil? || target.empty?
    $LOAD_PATH.unshift(task_root) unless $LOAD_PATH.include?(task_root)
    require File.join(task_root, file)
    owner, _, method_name = target.rpartition(".")
    receiver = owner.empty? ? TOPLEVEL_BINDING.receiver : Object.const_get(owner)
    unless receiver.respond_to?(method_name, true)
      raise NoMethodError, "undefined method `#{method_name}' for #{owner.empty? ? 'main:Object' : owner}"
    end
    [receiver, method_name]
  end

  def self.run
    client = Client.new(ENV.fetch("AWS_LAMBDA_RUNTIME_API"))
    begin
      receiver, method_name = load_handler(ENV.fetch("LAMBDA_TASK_ROOT"), ENV.fetch("_HANDLER"))
    rescue Exception => e # rubocop:disable Lint/RescueException -- a handler file may raise anything while loading
      document = error_document(e, "Init")
      puts "Init error when loading handler #{ENV['_HANDLER']}", JSON.pretty_generate(document)
      client.error("#{BASE}/init/error", document, document[:errorType])
      exit!(1)
    end
    loop { serve(client, receiver, method_name) }
  end

  def self.serve(client, receiver, method_name)
    headers, body = client.next_invocation
    request_id = headers["lambda-runtime-aws-request-id"]
    ENV["_X_AMZN_TRACE_ID"] = headers["lambda-runtime-trace-id"] || ""
    begin
      result = receiver.send(method_name, event: JSON.parse(body), context: Context.new(headers))
      client.respond(request_id, JSON.generate(result))
    rescue StandardError, ScriptError => e
      document = error_document(e, "Function")
      puts "Error raised from handler method", JSON.pretty_generate(document)
      client.error("#{BASE}/invocation/#{request_id}/error", document, "Unhandled")
    end
  end
end

EventyardRuntime.run
